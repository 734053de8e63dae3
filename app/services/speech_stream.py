"""Streaming transcription: most of the work happens while the candidate is still speaking.

Audio arrives in small PCM16 frames. `PauseSegmenter` cuts it into windows at real pauses
(see `speech_windows`); each closed window is transcribed once, in the background, and its
words are final. Every `partial_interval_s` of new audio a display-only preview pass (a short
encoder window: cheaper, a little less accurate) transcribes the open window and reports the
text so far (`transcript_partial`). After `audio_end` only the open window (the audio since the
last pause, typically a few seconds) is left to transcribe for good.

The final transcript depends on the audio only, not on when frames arrived or how busy the
server was: the same recording streamed twice, or sent whole (`transcribe_windows`), gives
the same words.
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
from app.inference.workers import inference_urgent
from app.services.speech_windows import PauseSegmenter, windows
from app.settings import SttSettings

log = logging.getLogger(__name__)
_PREVIEW_SAMPLES = 6 * SAMPLE_RATE  # a preview pass hears at most the newest 6 s
_PREVIEW_OVERLAP_S = 0.2


async def _transcribe_window(stt: SpeechToText, audio: np.ndarray, start: int, end: int, preview: bool = False) -> list[Word]:
    result = await stt.transcribe(audio[start:end], prompt="", preview=preview)
    offset = start / SAMPLE_RATE
    return [w.shifted(offset) for w in result.words]


async def transcribe_windows(stt: SpeechToText, audio: np.ndarray, settings: SttSettings) -> Transcript:
    """A whole clip, window by window: the same cuts and words as the same audio streamed.

    One window at a time, so each is a separate job for the engine's fair scheduler: a long clip
    never holds the engine for longer than one window while other sessions wait."""
    # No prompt: fillers are counted acoustically; the committed text as prompt made tiny.en repeat it.
    words: list[Word] = []
    for start, end in windows(audio, settings):
        words.extend(await _transcribe_window(stt, audio, start, end))
    return Transcript(text=join_words(words), words=tuple(words), duration_s=round(audio.size / SAMPLE_RATE, 3), language="en")


async def _quietly(task: asyncio.Task[None]) -> None:
    """Wait for a display pass; one cancelled by `finish` just ends the wait (our own cancellation does not)."""
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.cancelled():
            raise


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
        self._segmenter = PauseSegmenter(settings)
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._windows: list[asyncio.Task[list[Word]]] = []  # closed windows, in order
        self._partial: asyncio.Task[None] | None = None
        self._partial_due = 0
        self._preview: list[Word] = []  # display-only words of the open window
        self._ended = False
        self.passes = 0

    @property
    def duration_s(self) -> float:
        return self._samples / SAMPLE_RATE

    def audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    def push(self, pcm16: bytes) -> None:
        """Add a frame; starts background work when a window closes or a display pass is due."""
        chunk = self._resampler.push(pcm16)
        if self._samples + chunk.size > self.settings.max_audio_seconds * SAMPLE_RATE:
            raise InvalidInput(f"the answer is longer than {self.settings.max_audio_seconds:g} s", code="audio_too_long")
        self._add(chunk)
        finals_pending = bool(self._windows) and not self._windows[-1].done()  # finals first: they bound audio_end's wait
        if self._samples >= self._partial_due and not finals_pending and (self._partial is None or self._partial.done()):
            self._partial_due = self._samples + int(self.settings.partial_interval_s * SAMPLE_RATE)
            # Only the newest few seconds: a preview over a 20 s open window would cost as much as the final pass.
            start = max(self._segmenter.window_start, self._samples - _PREVIEW_SAMPLES)
            if self._samples - start >= SAMPLE_RATE // 2:
                self._partial = asyncio.create_task(self._display_pass(start, self._samples))

    def _add(self, chunk: np.ndarray) -> None:
        if not chunk.size:
            return
        window_start = self._segmenter.window_start
        self._chunks.append(chunk)
        self._samples += chunk.size
        for cut in self._segmenter.feed(chunk):
            self._windows.append(asyncio.create_task(self._final_pass(window_start, cut)))
            window_start = cut

    async def _final_pass(self, start: int, end: int) -> list[Word]:
        self.passes += 1
        return await _transcribe_window(self.stt, self.audio(), start, end)

    async def _display_pass(self, start: int, end: int) -> None:
        self.passes += 1
        try:
            words = await _transcribe_window(self.stt, self.audio(), start, end, preview=True)
        except Exception:  # a failed display pass must not end the answer
            log.exception("streaming transcription pass failed")
            return
        # Earlier previews keep the words before this one's start (plus a little overlap it re-heard).
        window_s, start_s = self._segmenter.window_start / SAMPLE_RATE, start / SAMPLE_RATE
        keep = [w for w in self._preview if w.start >= window_s and w.end <= start_s + _PREVIEW_OVERLAP_S]
        self._preview = keep + [w for w in words if w.start >= window_s and (not keep or w.start >= keep[-1].end)]
        words = self._preview
        if self.on_partial is not None:
            await self.on_partial(join_words(self._settled_words() + words))

    def _settled_words(self) -> list[Word]:
        """Words of the closed windows transcribed so far, up to the first one still running."""
        out: list[Word] = []
        for task in self._windows:
            if not task.done() or task.cancelled() or task.exception() is not None:
                break
            out.extend(task.result())
        return out

    async def settle(self) -> str:
        """The transcript up to now, for the turn detector at a pause: a display pass over the newest audio
        (cheap; Whisper punctuates from the sound, so a sentence broken off mid-way mostly comes back
        without a full stop). When the open window is only the pause itself (a window was just cut in it),
        the closed windows' words are the answer so far."""
        if self._partial is not None:
            await _quietly(self._partial)  # the running pass may not cover the pause
        start = max(self._segmenter.window_start, self._samples - _PREVIEW_SAMPLES)
        if self._samples - start < SAMPLE_RATE // 2:
            # shielded: a detector that stops waiting must not cancel the windows' final passes
            return join_words([w for task in self._windows for w in await asyncio.shield(task)])
        self._partial_due = self._samples + int(self.settings.partial_interval_s * SAMPLE_RATE)
        token = inference_urgent.set(True)  # someone waits on this pass: ahead of the other sessions' queue
        try:
            self._partial = asyncio.create_task(self._display_pass(start, self._samples))
        finally:
            inference_urgent.reset(token)
        await _quietly(self._partial)
        return join_words(self._settled_words() + self._preview)

    def end_input(self) -> np.ndarray:
        """No more frames: flush the resampler; returns the whole answer's audio."""
        if not self._ended:
            self._ended = True
            self._add(self._resampler.push(b"", last=True))
        return self.audio()

    async def finish(self) -> Transcript:
        """Flush the resampler, transcribe the open window, join the windows' words."""
        self.end_input()
        start, end = self._segmenter.window_start, self._samples
        if self._partial is not None and not self._partial.done():
            self._partial.cancel()  # a preview is of no use now (if it already runs, its thread finishes it)
            with contextlib.suppress(asyncio.CancelledError):
                await self._partial
        last = asyncio.create_task(self._final_pass(start, end)) if end > start else None
        words: list[Word] = []
        for task in self._windows:
            words.extend(await task)
        if last is not None:
            words.extend(await last)
        return Transcript(text=join_words(words), words=tuple(words), duration_s=round(self.duration_s, 3), language="en")

    async def cancel(self) -> None:
        tasks = [t for t in (self._partial, *self._windows) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
