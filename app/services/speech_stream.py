"""Streaming transcription: most of the work happens while the candidate is still speaking.

Audio arrives in small PCM16 frames. Every `partial_interval_s` of new audio a background
pass transcribes the uncommitted tail and reports the text so far (`transcript_partial`).
Once the tail is longer than `commit_after_s`, the words that end before a pause (and at
least a second before the newest audio, so they had right context) are fixed and their
audio is dropped from later passes. After `audio_end` only the last few seconds remain
to transcribe, so the final transcript comes quickly.
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
_MIN_GAP_S = 0.15  # a cut between two words needs at least this much silence


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
        self._task: asyncio.Task[None] | None = None
        self.passes = 0

    @property
    def duration_s(self) -> float:
        return self._samples / SAMPLE_RATE

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
            words = await self._transcribe(self._commit_sample, end)
        except Exception:  # a failed partial must not end the answer; the final pass retries
            log.exception("streaming transcription pass failed")
            return
        self._transcribed_up_to = end
        self._maybe_commit(words, end)
        if self.on_partial is not None:
            await self.on_partial(join_words(self._committed + [w for w in words if w.start >= self._commit_sample / SAMPLE_RATE]))

    async def _transcribe(self, start: int, end: int) -> list[Word]:
        self.passes += 1
        result = await self.stt.transcribe(self.audio()[start:end])
        offset = start / SAMPLE_RATE
        return [w.shifted(offset) for w in result.words]

    def _maybe_commit(self, words: list[Word], end: int) -> None:
        tail_s = (end - self._commit_sample) / SAMPLE_RATE
        if tail_s < self.settings.commit_after_s or not words:
            return
        horizon = end / SAMPLE_RATE - _RIGHT_CONTEXT_S
        cut: int | None = None
        for i in range(len(words) - 1):
            gap = words[i + 1].start - words[i].end
            if words[i + 1].start <= horizon and gap >= _MIN_GAP_S:
                cut = i
        if cut is None and tail_s >= 3 * self.settings.commit_after_s:  # no pause for long: cut at any word end
            cut = max((i for i in range(len(words) - 1) if words[i + 1].start <= horizon), default=None)
        if cut is None:
            return
        boundary = (words[cut].end + words[cut + 1].start) / 2
        self._committed.extend(words[: cut + 1])
        self._commit_sample = int(boundary * SAMPLE_RATE)

    async def finish(self) -> Transcript:
        """Flush the resampler, wait for a running pass, transcribe what is left."""
        tail = self._resampler.push(b"", last=True)
        if tail.size:
            self._chunks.append(tail)
            self._samples += tail.size
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        rest = await self._transcribe(self._commit_sample, self._samples) if self._samples > self._commit_sample else []
        words = self._committed + rest
        return Transcript(text=join_words(words), words=tuple(words), duration_s=round(self.duration_s, 3), language="en")

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
