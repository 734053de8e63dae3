"""Real-time interview-coaching service."""

__version__ = "0.1.0"
