"""Streaming transcription: most of the work happens while the candidate is still speaking.

Audio arrives in small PCM16 frames. Every `partial_interval_s` of new audio a background
pass transcribes the uncommitted tail and reports the text so far (`transcript_partial`).
Once the tail is longer than `commit_after_s`, the words that end before a pause (and at
least a second before the newest audio, so they had right context) are fixed and their
audio is dropped from later passes. After `audio_end` only the last few seconds remain
to transcribe, so the final transcript comes quickly: a pass still running is awaited and
its words reused (the model call cannot be interrupted), and when it already covered all
the audio no further pass runs. The engine encodes a short tail with a short window
(STT__MIN_WINDOW_S), so a pass costs a fraction of a 30 s transcription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import numpy as np

from app.errors import InvalidInput
from app.inference.audio import SAMPLE_RATE, StreamResampler
from app.inference.stt.base import SpeechToText, Transcript, Word, join_words
from app.settings import SttSettings

log = logging.getLogger(__name__)
_RIGHT_CONTEXT_S = 1.0  # words ending closer than this to the newest audio may still change
_MIN_GAP_S = 0.3  # a cut between two words needs this much time between them (0.15 cut into fast speech)
_FRAME_S = 0.02  # level frames for finding a quiet cut point
_QUIET_DB = 25.0  # a pause is this far below the loud end of the tail...
_NEAR_FLOOR_DB = 6.0  # ...or this close to its quietest frames
_FORCE_CUT_S = 20.0  # no quiet pause for this long: cut at the quietest gap between words anyway
_FLUSH_SLACK = SAMPLE_RATE // 20  # the resampler's flush adds a few ms: not worth another pass


class StreamingTranscription:
    """One spoken answer being streamed. Not thread-safe: use from the event loop only."""

    def __init__(
        self, stt: SpeechToText, sample_rate: int, settings: SttSettings,
        on_partial: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.stt = stt
        self.settings = settings
        self.on_partial = on_partial
        self._resampler = StreamResampler(sample_rate)
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._committed: list[Word] = []
        self._commit_sample = 0
        self._transcribed_up_to = 0
        self._pending: list[Word] = []  # words of the last pass after the commit point
        self._task: asyncio.Task[None] | None = None
        self._ended = False
        self.passes = 0

    @property
    def duration_s(self) -> float:
        return self._samples / SAMPLE_RATE

    @property
    def transcribed_s(self) -> float:
        """Audio covered by the last finished transcription pass (what the latest partial knows)."""
        return self._transcribed_up_to / SAMPLE_RATE

    def audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    def push(self, pcm16: bytes) -> None:
        """Add a frame; starts a background pass when enough new audio has arrived."""
        chunk = self._resampler.push(pcm16)
        if self._samples + chunk.size > self.settings.max_audio_seconds * SAMPLE_RATE:
            raise InvalidInput(f"the answer is longer than {self.settings.max_audio_seconds:g} s", code="audio_too_long")
        self._chunks.append(chunk)
        self._samples += chunk.size
        due = self._samples - self._transcribed_up_to >= self.settings.partial_interval_s * SAMPLE_RATE
        if due and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._pass())

    async def _pass(self) -> None:
        end = self._samples
        try:
            words = await self._transcribe(self._commit_sample, end, quick=True)
        except Exception:  # a failed partial must not end the answer; the final pass retries
            log.exception("streaming transcription pass failed")
            return
        self._transcribed_up_to = end
        self._maybe_commit(words, end)
        self._pending = [w for w in words if w.start >= self._commit_sample / SAMPLE_RATE]
        if self.on_partial is not None:
            await self.on_partial(join_words(self._committed + self._pending))

    async def _transcribe(self, start: int, end: int, quick: bool = False) -> list[Word]:
        self.passes += 1
        # No prompt: the committed text as prompt (whisper-streaming's practice) made tiny.en repeat
        # it at the start of the tail; fillers are counted acoustically anyway.
        result = await self.stt.transcribe(self.audio()[start:end], prompt="", quick=quick)
        offset = start / SAMPLE_RATE
        return [w.shifted(offset) for w in result.words]

    def _maybe_commit(self, words: list[Word], end: int) -> None:
        """Fix the words before the last real pause that had right context, and cut the audio in that pause.

        Whisper's word times are loose (it stretches words over pauses and fillers), so a gap between
        two words only counts when the audio there really goes quiet; the cut goes at the quietest
        point. A cut inside speech makes the next pass drop the word fragment, so without a pause the
        tail just grows: a short-window pass over 10 s costs no more than over 2 s.
        """
        tail_s = (end - self._commit_sample) / SAMPLE_RATE
        if tail_s < self.settings.commit_after_s or len(words) < 2:
            return
        horizon = end / SAMPLE_RATE - _RIGHT_CONTEXT_S
        db = _frame_db(self.audio()[self._commit_sample:end])
        # Quiet = near the tail's noise floor, or far below its loud end (a recording with a noise floor
        # 20 dB under the speech has pauses that never get 25 dB below it).
        quiet_below = max(float(np.percentile(db, 95)) - _QUIET_DB, float(np.percentile(db, 5)) + _NEAR_FLOOR_DB) \
            if db.size else 0.0
        t0 = self._commit_sample / SAMPLE_RATE
        chosen: tuple[int, float] | None = None
        for i in range(len(words) - 1):
            a, b = words[i].end, words[i + 1].start
            if b > horizon:
                break
            lo, hi = int((a - t0) / _FRAME_S), int((b - t0) / _FRAME_S)
            if b - a < _MIN_GAP_S or hi <= lo or hi > db.size:
                continue
            quietest = lo + int(np.argmin(db[lo:hi]))
            if db[quietest] <= quiet_below or tail_s >= _FORCE_CUT_S:
                chosen = (i, t0 + (quietest + 0.5) * _FRAME_S)
        if chosen is None:
            return
        cut, boundary = chosen
        self._committed.extend(words[: cut + 1])
        self._commit_sample = int(boundary * SAMPLE_RATE)

    def end_input(self) -> np.ndarray:
        """No more frames: flush the resampler; returns the whole answer's audio."""
        if not self._ended:
            self._ended = True
            tail = self._resampler.push(b"", last=True)
            if tail.size:
                self._chunks.append(tail)
                self._samples += tail.size
        return self.audio()

    async def finish(self) -> Transcript:
        """Flush the resampler, wait for a running pass, transcribe what is left."""
        self.end_input()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._samples - self._transcribed_up_to <= _FLUSH_SLACK:  # the last pass heard it all: its words are final
            rest = self._pending
        elif self._samples > self._commit_sample:
            rest = await self._transcribe(self._commit_sample, self._samples)
        else:
            rest = []
        words = self._committed + rest
        return Transcript(text=join_words(words), words=tuple(words), duration_s=round(self.duration_s, 3), language="en")

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def _frame_db(audio: np.ndarray) -> np.ndarray:
    """RMS level of consecutive 20 ms frames, dBFS."""
    n = int(_FRAME_S * SAMPLE_RATE)
    frames = audio[: audio.size // n * n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10)
