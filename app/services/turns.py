"""End-of-turn detection for a streamed spoken answer, decided from evidence rather than a bare timer.

Time is counted in audio (32 ms VAD windows), so a recording fed faster than real time gets the same
decisions as a live microphone. The tracker sees three kinds of evidence:

1. voice activity (Silero VAD) for speech and silence;
2. at each pause of `TURNS__PAUSE_S`, the end-of-turn model's probability that the turn is complete,
   from the turn's last 8 s of audio (Smart Turn v3: intonation, pace, drawn-out fillers);
3. optionally the transcript: when the model says "over", the answer is transcribed up to the pause (in
   final quality: if the turn does end there, that pass is the final transcript, see
   `StreamingTranscription.settle`). Unless it ends a sentence (., ? or !, and not on an open word such
   as "and", "the", "because", "um") the answer is not over, whatever the sound says.

The turn is over when the model says so at a pause (probability >= `TURNS__THRESHOLD`, transcript ending
a sentence, no speech while it was being transcribed), or after `TURNS__MAX_PAUSE_S` of silence whatever
it says. Before any speech, `silence_prompt_s`
of silence asks for a prompt (once); sustained speech (`barge_in_speech_s`) is reported for barge-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.inference.turn.base import SAMPLE_RATE, VAD_WINDOW, TurnEngine, VadState
from app.settings import TurnSettings

log = logging.getLogger(__name__)
WINDOW_S = VAD_WINDOW / SAMPLE_RATE
_NEG_MARGIN = 0.15  # once in speech, a window is silence only below threshold - this (Silero's practice)
_MIN_TURN_SPEECH_S = 0.25  # less speech than this (a cough, a click) never ends a turn
_MODEL_AUDIO_S = 8.0

# Words after which an English sentence (almost) never ends: articles, conjunctions, most prepositions,
# possessives, subject pronouns, fillers. Words that often do end one ("like", "about", "you", "did")
# are left out. A transcript ending in one of them is an open sentence.
OPEN_WORDS = frozenset("""
a an the and or but because since although though if unless whereas whether to of in on at by for from with into onto
under between during than my your its our their i we he she they it's i'm we're you're they're very um uh er erm
""".split())
_TRAILING_OPEN = re.compile(r"(,|-|—|–|\.\.\.|…)\s*$")


def transcript_is_open(text: str) -> bool:
    """True when the transcript so far ends mid-sentence (an open word, or a trailing comma/dash/ellipsis)."""
    text = text.strip()
    if not text:
        return False
    if _TRAILING_OPEN.search(text):
        return True
    last = re.findall(r"[a-z']+", text.lower())
    return bool(last) and last[-1] in OPEN_WORDS and not text.endswith(("?", "!"))


_SENTENCE_END = re.compile(r"[.?!][\"'”’)\]]*\s*$")


def transcript_ends_sentence(text: str) -> bool:
    """True when the transcript so far ends a sentence: final punctuation, and not after an open word.
    Whisper punctuates from the sound as well as the words: a sentence broken off mid-way mostly comes
    back without a full stop (measured in docs/turn-taking.md)."""
    return bool(_SENTENCE_END.search(text)) and not transcript_is_open(text)


Reason = Literal["smart_turn", "silence"]


@dataclass(frozen=True)
class TurnDecision:
    reason: Reason
    at_s: float  # audio time of the decision
    speech_end_s: float  # audio time the last speech ended (VAD)
    probability: float | None  # the end-of-turn model's last probability

    @property
    def silence_ms(self) -> int:
        return round(1000 * (self.at_s - self.speech_end_s))


class TurnTracker:
    """The decision logic, fed VAD probabilities and model answers; no I/O, no clock of its own."""

    def __init__(self, settings: TurnSettings) -> None:
        self.settings = settings
        self.now_s = 0.0
        self.in_speech = False
        self.speech_s = 0.0  # total speech so far
        self.speech_start_s: float | None = None  # onset of the current run of speech
        self.speech_end_s: float | None = None  # end of the last run of speech
        self.run_s = 0.0  # length of the current run of speech
        self.checked = False  # the model was asked during the current pause
        self.probability: float | None = None
        self.decision: TurnDecision | None = None
        self.prompted = False
        self.sustained = False  # the current run of speech is long enough to interrupt
        self.checks: list[tuple[float, float | None, bool]] = []  # (audio time, probability, transcript open)

    @property
    def silence_s(self) -> float:
        if self.in_speech:
            return 0.0
        return self.now_s - (self.speech_end_s if self.speech_end_s is not None else 0.0)

    def on_vad(self, probs: np.ndarray) -> list[str]:
        """Advance by one window per probability. Returns events: 'speech_start', 'sustained_speech'."""
        events: list[str] = []
        on, off = self.settings.vad_threshold, self.settings.vad_threshold - _NEG_MARGIN
        for p in probs:
            start = self.now_s
            self.now_s += WINDOW_S
            if self.decision is not None:
                continue
            speech = p >= on or (self.in_speech and p >= off)
            if speech and not self.in_speech:
                self.in_speech, self.speech_start_s, self.run_s = True, start, 0.0
                self.checked, self.sustained = False, False
                events.append("speech_start")
            elif not speech and self.in_speech:
                self.in_speech, self.speech_end_s = False, start
            if speech:
                self.speech_s += WINDOW_S
                self.run_s += WINDOW_S
                self.speech_end_s = self.now_s
                if not self.sustained and self.run_s >= self.settings.barge_in_speech_s:
                    self.sustained = True
                    events.append("sustained_speech")
        return events

    def check_due(self) -> bool:
        """A pause long enough to ask the end-of-turn model, not asked yet."""
        return (self.decision is None and not self.in_speech and not self.checked
                and self.speech_s >= _MIN_TURN_SPEECH_S and self.silence_s >= self.settings.pause_s)

    def on_probability(self, probability: float | None, transcript_open: bool = False) -> TurnDecision | None:
        self.checked = True
        self.probability = probability
        self.checks.append((round(self.now_s, 3), probability, transcript_open))
        if probability is not None and probability >= self.settings.threshold and not transcript_open:
            return self._decide("smart_turn")
        return None

    def on_time(self) -> TurnDecision | None:
        """The long-silence rule."""
        if (self.decision is None and self.speech_end_s is not None and not self.in_speech
                and self.speech_s >= _MIN_TURN_SPEECH_S and self.silence_s >= self.settings.max_pause_s):
            return self._decide("silence")
        return None

    def silence_prompt_due(self, quiet_since_s: float) -> bool:
        """No speech at all for `silence_prompt_s` of audio after `quiet_since_s` (once)."""
        limit = self.settings.silence_prompt_s
        if limit <= 0 or self.prompted or self.speech_s > 0 or self.in_speech:
            return False
        if self.now_s - quiet_since_s >= limit:
            self.prompted = True
            return True
        return False

    def _decide(self, reason: Reason) -> TurnDecision:
        assert self.speech_end_s is not None
        self.decision = TurnDecision(reason, round(self.now_s, 3), round(self.speech_end_s, 3), self.probability)
        return self.decision


def model_audio(audio: np.ndarray) -> np.ndarray:
    """What the end-of-turn model hears: the last 8 s."""
    return audio[-int(_MODEL_AUDIO_S * SAMPLE_RATE):]


def wants_transcript(settings: TurnSettings, probability: float | None) -> bool:
    """The transcript is only asked for when the model would end the turn (it costs a transcription)."""
    return settings.use_transcript and probability is not None and probability >= settings.threshold


def detect_offline(engine: TurnEngine, audio: np.ndarray, settings: TurnSettings, *,
                   settle: Callable[[np.ndarray], str] | None = None,
                   chunk_s: float = 0.064) -> tuple[TurnDecision | None, TurnTracker]:
    """Feed a recording through the same tracker as a live stream (blocking; evaluations and tests).
    `settle(audio so far)`: the transcript of the answer if it ended now (the service's final pass)."""
    tracker = TurnTracker(settings)
    state = VadState()
    step = max(VAD_WINDOW, int(chunk_s * SAMPLE_RATE) // VAD_WINDOW * VAD_WINDOW)
    usable = audio.size // VAD_WINDOW * VAD_WINDOW
    for start in range(0, usable, step):
        end = min(usable, start + step)
        tracker.on_vad(engine.speech_probabilities_sync(state, audio[start:end]))
        if tracker.check_due():
            probability = engine.end_of_turn_sync(model_audio(audio[:end]))
            opened = (wants_transcript(settings, probability) and settle is not None
                      and not transcript_ends_sentence(settle(audio[:end])))
            if (decision := tracker.on_probability(probability, opened)) is not None:
                return decision, tracker
        if (decision := tracker.on_time()) is not None:
            return decision, tracker
    return None, tracker


@dataclass(frozen=True)
class TurnCallbacks:
    """What the detector reports, as it happens (all optional)."""

    on_speech_start: Callable[[float], Awaitable[None]] | None = None  # audio time of the onset
    on_sustained_speech: Callable[[], Awaitable[None]] | None = None  # barge-in evidence
    on_pause: Callable[[float | None], Awaitable[None]] | None = None  # the model said "not over" at a pause
    on_turn_end: Callable[[TurnDecision], Awaitable[None]] | None = None
    on_silence: Callable[[], Awaitable[None]] | None = None  # silence_prompt_s without any speech
    settle: Callable[[], Awaitable[str | None]] | None = None  # the transcript if the answer ended now
    quiet_since_s: Callable[[], float] | None = None  # audio time from which silence counts for the prompt


class TurnDetector:
    """Runs the tracker on one streamed answer, off the receive loop: `push` never waits for a model.

    `decide=False` (manual mode) only tracks speech (for the latency record and barge-in); the turn
    ends when the client says so.
    """

    def __init__(self, engine: TurnEngine, settings: TurnSettings, callbacks: TurnCallbacks, *, decide: bool = True) -> None:
        self.engine = engine
        self.settings = settings
        self.callbacks = callbacks
        self.decide = decide
        self.tracker = TurnTracker(settings)
        self._state = VadState()
        self._chunks: list[np.ndarray] = []  # the whole answer, 16 kHz
        self._samples = 0
        self._done = 0  # samples through the VAD
        self._arrivals: list[tuple[int, float]] = []  # (samples so far, monotonic arrival) per push
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.transcript_late = 0  # pauses where the transcript came too late to be read
        self._closed = False

    def push(self, audio: np.ndarray, arrived: float) -> None:
        if self._closed or audio.size == 0:
            return
        self._chunks.append(audio)
        self._samples += audio.size
        self._arrivals.append((self._samples, arrived))
        self._ready.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="turn-detector")

    def wall_time(self, audio_s: float) -> float | None:
        """When the sample at `audio_s` arrived (monotonic), from the arrival times of the pushes."""
        target = audio_s * SAMPLE_RATE
        for total, at in self._arrivals:
            if total >= target:
                return at
        return self._arrivals[-1][1] if self._arrivals else None

    @property
    def decision(self) -> TurnDecision | None:
        return self.tracker.decision

    def _audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    async def _run(self) -> None:
        cb = self.callbacks
        while not self._closed:
            usable = self._samples // VAD_WINDOW * VAD_WINDOW
            if usable <= self._done:
                await self._ready.wait()
                self._ready.clear()
                continue
            try:
                probs = await self.engine.speech_probabilities(self._state, self._audio()[self._done:usable])
            except Exception:
                log.exception("voice activity detection failed; this answer ends on audio_end only")
                return
            self._done = usable
            await self._events(self.tracker.on_vad(probs))
            quiet_since = cb.quiet_since_s() if cb.quiet_since_s is not None else 0.0
            if self.decide and self.tracker.silence_prompt_due(quiet_since) and cb.on_silence is not None:
                await cb.on_silence()
            if not self.decide:
                continue
            decision = await self._judge()
            if decision is not None:
                self._closed = True
                if cb.on_turn_end is not None:
                    await cb.on_turn_end(decision)
                return

    async def _judge(self) -> TurnDecision | None:
        """The decision on the audio heard so far: the model (and the transcript) at a new pause, else the
        long-silence rule. Audio that arrives while the transcript is made is heard before deciding."""
        cb = self.callbacks
        while self.tracker.check_due():
            try:
                probability = await self.engine.end_of_turn(model_audio(self._audio()[:self._done]))
            except Exception:
                log.exception("end-of-turn model failed; the long-silence rule still applies")
                probability = None
            opened = False
            if wants_transcript(self.settings, probability) and cb.settle is not None:
                # An overloaded server must not make every answer wait: after transcript_wait_s the model decides.
                text = await self._settle(cb.settle, self.settings.transcript_wait_s)
                opened = text is not None and not transcript_ends_sentence(text)
                if not await self._still_paused():
                    continue  # the candidate spoke again meanwhile (that speech may hold a new pause)
            decision = self.tracker.on_probability(probability, opened)
            if decision is not None:
                return decision
            if cb.on_pause is not None:
                await cb.on_pause(probability)
            break
        return self.tracker.on_time()

    async def _settle(self, settle: Callable[[], Awaitable[str | None]], budget_s: float) -> str | None:
        """The transcript at this pause, or None when it fails or takes longer than `budget_s`."""
        try:
            return await asyncio.wait_for(settle(), budget_s) or ""
        except TimeoutError:
            self.transcript_late += 1
            log.info("no transcript within %.1f s of the pause; the model decides alone", budget_s)
        except Exception:
            log.exception("transcribing the answer at a pause failed; the model decides alone")
        return None

    async def _events(self, events: list[str]) -> None:
        cb = self.callbacks
        for event in events:
            if event == "speech_start" and cb.on_speech_start is not None:
                await cb.on_speech_start(self.tracker.speech_start_s or 0.0)
            elif event == "sustained_speech" and cb.on_sustained_speech is not None:
                await cb.on_sustained_speech()

    async def _still_paused(self) -> bool:
        """Run the VAD over what arrived meanwhile; False if speech came back."""
        usable = self._samples // VAD_WINDOW * VAD_WINDOW
        if usable > self._done:
            try:
                probs = await self.engine.speech_probabilities(self._state, self._audio()[self._done:usable])
            except Exception:
                log.exception("voice activity detection failed; deciding on what was heard")
                return True
            self._done = usable
            await self._events(self.tracker.on_vad(probs))
        return not self.tracker.in_speech

    async def wait(self) -> None:
        """Until the detector's task (and a turn-end callback it runs) has finished."""
        if self._task is not None and self._task is not asyncio.current_task():
            await asyncio.wait([self._task])  # a cancelled waiter leaves the answer being committed alone

    async def aclose(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
