"""Acoustic speech metrics: pauses, pitch, loudness and filled-pause evidence."""
