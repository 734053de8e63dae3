"""Where a spoken answer is cut into windows that are transcribed one by one.

The cut points are a function of the audio alone: levels of 10 ms frames, examined at fixed
positions (every 100 ms of audio). So a clip sent whole and the same audio streamed at any pace,
on an idle or a busy server, are cut at the same places, transcribed window by window with the
same deterministic decoder, and give the same words. A window ends in the middle of the first
real pause (STT__CUT_PAUSE_S of quiet) after STT__COMMIT_AFTER_S of audio, so no word is cut in
two; with no pause for STT__FORCE_CUT_S it ends at its quietest frame.

Short windows also bound the work left when the candidate stops (only the audio since the last
pause) and make each transcription job short, so the fair scheduler can interleave sessions.
"""

from __future__ import annotations

import itertools

import numpy as np

from app.inference.audio import SAMPLE_RATE
from app.settings import SttSettings

FRAME = SAMPLE_RATE // 100  # 10 ms
_STEP = 10  # frames between two looks for a cut: every 100 ms of audio
_QUIET_BELOW_LOUD_DB = 25.0  # a pause is this far below the window's loud end...
_NEAR_FLOOR_DB = 6.0  # ...or this close to its quietest frames (a noisy room never gets 25 dB quieter)
_MIN_WINDOW_S = 1.0  # no cut in the first second of a window


class PauseSegmenter:
    """Finds cut points in audio that arrives in pieces. Feed it every sample, in order."""

    def __init__(self, settings: SttSettings) -> None:
        self.commit_frames = round(settings.commit_after_s * 100)
        self.pause_frames = max(1, round(settings.cut_pause_s * 100))
        self.force_frames = round(settings.force_cut_s * 100)
        self._levels: list[float] = []
        self._remainder = np.zeros(0, np.float32)
        self._start = 0  # first frame of the open window
        self._looked = 0  # frames examined so far (a multiple of _STEP)
        self.cuts: list[int] = []  # sample positions

    @property
    def window_start(self) -> int:
        return self._start * FRAME

    def feed(self, audio: np.ndarray) -> list[int]:
        """Add samples; returns the cut points (sample positions) found in them."""
        data = np.concatenate([self._remainder, audio]) if self._remainder.size else audio
        whole = data.size // FRAME * FRAME
        if whole:
            frames = data[:whole].astype(np.float64).reshape(-1, FRAME)
            self._levels.extend((10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)).tolist())
        self._remainder = data[whole:].astype(np.float32)
        found = []
        while self._looked + _STEP <= len(self._levels):
            self._looked += _STEP
            cut = self._look(self._looked)
            if cut is not None:
                self._start = cut
                self.cuts.append(cut * FRAME)
                found.append(cut * FRAME)
        return found

    def _look(self, upto: int) -> int | None:
        """A cut frame for the open window, judged on frames [start, upto) only."""
        length = upto - self._start
        if length < max(self.commit_frames, 100):
            return None
        db = np.asarray(self._levels[self._start:upto])
        quiet = db <= max(float(np.percentile(db, 95)) - _QUIET_BELOW_LOUD_DB, float(np.percentile(db, 5)) + _NEAR_FLOOR_DB)
        first = max(100, self.commit_frames - self.pause_frames)  # a pause that ends after commit_after_s
        run = 0
        for i in range(first, len(db)):
            run = run + 1 if quiet[i] else 0
            if run == self.pause_frames:  # the first pause long enough: cut in it
                return self._start + i - run // 2
        if length >= self.force_frames:
            lo, hi = self.commit_frames, length - 50
            return self._start + lo + int(np.argmin(db[lo:hi]))
        return None


def cut_points(audio: np.ndarray, settings: SttSettings) -> list[int]:
    """The cut points of a whole clip: exactly those a stream of the same audio gets."""
    segmenter = PauseSegmenter(settings)
    segmenter.feed(audio)
    return segmenter.cuts


def windows(audio: np.ndarray, settings: SttSettings) -> list[tuple[int, int]]:
    bounds = [0, *cut_points(audio, settings), audio.size]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
