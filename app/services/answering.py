"""The answer path: typed text, an uploaded clip or a streamed answer → transcript → measures →
merged metrics (camera included) → `InterviewService.answer`, with end-of-turn detection, barge-in,
the silence prompt and the latency record of every spoken answer.

One `AnswerDesk` per socket holds the answer in progress; the socket layer only parses messages,
hands them over here and sends what comes back through `AnswerPorts`. Knows nothing of sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.errors import Conflict, EngineUnavailable, InvalidInput
from app.inference.audio import StreamResampler, decode_audio, decode_base64
from app.inference.stt.base import Transcript
from app.inference.turn.base import TurnEngine
from app.schemas import ws
from app.services.coaching.base import InterviewerSpeech
from app.services.interview import AnswerInput, InterviewService, Outcome
from app.services.latency import LatencyService, StageClock
from app.services.speech import SpeechService, SpokenAnswer
from app.services.speech_stream import StreamingTranscription
from app.services.turns import TurnCallbacks, TurnDecision, TurnDetector
from app.settings import Settings

log = logging.getLogger(__name__)
DeltaSender = Callable[[str], Awaitable[None]]


class InterviewerVoice(Protocol):
    """The interviewer's speech on this socket, as far as barge-in needs it."""

    def speaking(self) -> bool:
        """An utterance is being sent, or the client is still playing what was sent."""
        ...

    def interrupt(self) -> tuple[int | None, int] | None:
        """Stop the current utterance (and what waits): (its seq, chunks sent), or None if silent."""
        ...

    @property
    def playing_until(self) -> float:
        """Monotonic time the client's playback of what was sent should end."""
        ...


@dataclass(frozen=True)
class AnswerPorts:
    """What the socket offers the answer path."""

    send: Callable[[ws.ServerMessage], Awaitable[None]]
    send_outcome: Callable[[Outcome], Awaitable[None]]  # durable replies; camera and voice follow them
    guarded: Callable[[Awaitable[None], str | None], Awaitable[None]]  # runs work, maps errors to `error` replies
    camera_metrics: Callable[[], dict[str, Any]]
    delta_sender: Callable[[str | None], DeltaSender | None]
    voice: Callable[[], InterviewerVoice | None]
    reply_voice: Callable[[str | None], InterviewerSpeech | None]  # speech for a reply while it is written (or None)
    check_metrics: Callable[[ws.ClientMetrics | None], dict[str, Any] | None]  # the edge's limits on client metrics
    say: Callable[[str, str | None], None]  # speak a text that is no message (the turn cue)


@dataclass
class _Listening:
    """A streamed answer in progress."""

    stream: StreamingTranscription
    started: ws.AudioStart
    session_id: str
    clock: StageClock
    started_at: float  # monotonic, audio_start received
    detector: TurnDetector | None = None
    resampler: StreamResampler | None = None
    interrupted: bool = False


@dataclass
class _PendingLatency:
    clock: StageClock
    session_id: str
    answer_id: int
    spoken_seqs: frozenset[int] = field(default_factory=frozenset)
    reply_to: str | None = None  # provisional speech_audio of this reply counts as its first audio too


class AnswerDesk:
    """The answers of one socket."""

    def __init__(self, interview: InterviewService, speech: SpeechService | None, turn: TurnEngine | None,
                 latency: LatencyService, settings: Settings, ports: AnswerPorts) -> None:
        self.interview = interview
        self.speech = speech
        self.turn = turn
        self.latency = latency
        self.settings = settings
        self.ports = ports
        self.mode: str = "manual"  # the bound session's turn detection
        self.tts = False
        self.style: str | None = None  # the bound session's interviewer style
        self._cues_said = 0
        self._cue: tuple[str, str | None, StageClock] | None = None  # (text, reply_to, clock) of the last cue
        self._listening: _Listening | None = None
        self._turn_over = False  # an auto turn ended: late frames and audio_end of it are dropped quietly
        self._pending: _PendingLatency | None = None
        self._replying: tuple[str | None, StageClock] | None = None  # the spoken answer the coach is replying to
        self._finishing: TurnDetector | None = None  # its task is answering an auto-ended turn
        self._tasks: set[asyncio.Task[None]] = set()

    # --- text and clip answers ---------------------------------------------------------

    async def answer(self, session_id: str, message: ws.UserAnswer) -> None:
        if (message.answer is None) == (message.audio is None):
            raise InvalidInput("send exactly one of 'answer' (text) or 'audio'", code="invalid_message")
        client_metrics = self.ports.check_metrics(message.metrics)  # before any audio is decoded
        if message.audio is not None:
            limits = self.settings.stt
            data = decode_base64(message.audio, max_bytes=limits.max_audio_bytes)
            audio = await asyncio.to_thread(decode_audio, data, max_seconds=limits.max_audio_seconds)
            speech = self._speech()
            transcript = await speech.transcribe_clip(audio)
            await self._send_transcript(transcript, message.id)
            spoken = await speech.measure(audio, transcript)
            await self._answer_spoken(session_id, spoken, message.id, message.question_id, client_metrics, None)
            return
        assert message.answer is not None
        given = AnswerInput(
            text=message.answer, question_id=message.question_id, client_message_id=message.id,
            client_metrics=client_metrics, server_metrics=self.ports.camera_metrics(),
            on_interviewer_delta=self.ports.delta_sender(message.id), speech=self.ports.reply_voice(message.id),
        )
        await self.ports.send_outcome(await self.interview.answer(session_id, given))

    # --- streamed answers --------------------------------------------------------------

    def _speech(self) -> SpeechService:
        if self.speech is None:
            raise EngineUnavailable("spoken answers need the speech-to-text engine, which is not available")
        self.speech.require_stt()
        return self.speech

    @property
    def listening(self) -> bool:
        return self._listening is not None

    @property
    def turn_over(self) -> bool:
        """The server ended the last streamed answer itself; frames and audio_end of it may still arrive."""
        return self._listening is None and self._turn_over

    async def audio_start(self, session_id: str, message: ws.AudioStart) -> None:
        speech = self._speech()
        if self._listening is not None:
            raise Conflict("an answer is already being streamed; send audio_end first", code="audio_already_started")
        self.ports.check_metrics(message.metrics)
        await self._flush_latency()
        self._turn_over = False
        reply_to = message.id

        async def partial(text: str) -> None:
            await self.ports.send(ws.TranscriptPartial(text=text, reply_to=reply_to))

        stream = StreamingTranscription(speech.require_stt(), message.sample_rate, self.settings.stt, partial)
        listening = _Listening(stream, message, session_id, StageClock(self.mode), time.monotonic())
        if self.turn is not None:
            listening.detector = TurnDetector(self.turn, self.settings.turns, self._callbacks(listening),
                                              decide=self.mode == "auto")
            listening.resampler = StreamResampler(message.sample_rate)
        elif self.mode == "auto":
            await self.ports.send(ws.ErrorMessage(code="turn_detection_unavailable", reply_to=reply_to,
                                                  message="the end-of-turn engine is not available; send audio_end"))
        self._listening = listening

    def push(self, data: bytes) -> bool:
        """A binary frame. False: no answer is being streamed (and none just ended by itself)."""
        listening = self._listening
        if listening is None:
            return self._turn_over  # frames already in flight when the server ended the turn
        listening.stream.push(data)
        if listening.detector is not None and listening.resampler is not None:
            listening.detector.push(listening.resampler.push(data), time.monotonic())
        return True

    async def drop_stream(self) -> str | None:
        """The streamed answer is abandoned (bad frame): its id, for the error reply."""
        listening, self._listening = self._listening, None
        if listening is None:
            return None
        await self._close(listening)
        return listening.started.id

    async def audio_end(self, message: ws.AudioEnd) -> None:
        listening = self._listening
        if listening is None:
            if self._turn_over:  # the server had already ended this turn; its replies are on their way
                return
            raise Conflict("audio_end without audio_start", code="no_audio_stream")
        self._listening = None
        now = time.monotonic()
        clock = listening.clock
        clock.mode, clock.reason = "manual", "audio_end"
        clock.mark("turn_ms", now)
        if listening.detector is not None:
            tracker = listening.detector.tracker
            clock.speech_end = listening.detector.wall_time(tracker.speech_end_s) if tracker.speech_end_s is not None else None
            await listening.detector.aclose()  # the stream's running pass is kept: finish() reuses it
        await self._finish(listening, message.id or listening.started.id)

    async def _close(self, listening: _Listening) -> None:
        if listening.detector is not None:
            await listening.detector.aclose()
        await listening.stream.cancel()

    async def _finish(self, listening: _Listening, reply_to: str | None) -> None:
        speech = self._speech()
        stream, started = listening.stream, listening.started
        analysis = speech.start_analysis(stream.end_input())  # overlaps the last transcription pass
        try:
            transcript = await stream.finish()
        except BaseException:
            if analysis is not None:
                analysis.cancel()
            raise
        await self._send_transcript(transcript, reply_to)
        listening.clock.mark("transcript_ms", time.monotonic())
        spoken = await speech.measure(stream.audio(), transcript, analysis)
        await self._answer_spoken(listening.session_id, spoken, reply_to, started.question_id,
                                  started.metrics.model_dump(exclude_none=True) if started.metrics else None, listening.clock)

    async def _send_transcript(self, transcript: Transcript, reply_to: str | None) -> None:
        await self.ports.send(ws.TranscriptFinal(
            text=transcript.text, duration_s=transcript.duration_s, reply_to=reply_to,
            words=[ws.TranscriptWord(word=w.word.strip(), start=w.start, end=w.end, probability=w.probability)
                   for w in transcript.words],
        ))

    async def _answer_spoken(self, session_id: str, spoken: SpokenAnswer, reply_to: str | None, question_id: str | None,
                             client_metrics: dict[str, Any] | None, clock: StageClock | None) -> None:
        given = AnswerInput(
            text=spoken.transcript.text, input_mode="voice", question_id=question_id, client_message_id=reply_to,
            client_metrics=client_metrics, server_metrics={**self.ports.camera_metrics(), **spoken.metrics},
            on_interviewer_delta=self.ports.delta_sender(reply_to), speech=self.ports.reply_voice(reply_to),
        )
        self._replying = (reply_to, clock) if clock is not None else None
        try:
            outcome = await self.interview.answer(session_id, given)
        finally:
            self._replying = None
        if clock is not None:
            if outcome.coach_done_at is not None:
                clock.mark("coach_ms", outcome.coach_done_at)
            answer_id = next((m.answer_id for m in outcome.messages if isinstance(m, ws.AnswerMetricsMessage)), None)
            if answer_id is not None and outcome.coach_done_at is not None:  # not a replay of an earlier answer
                spoken_seqs = frozenset(m.seq for m in outcome.messages
                                        if isinstance(m, ws.InterviewerMessage | ws.QuestionMessage) and m.seq is not None)
                await self._flush_latency()
                self._pending = _PendingLatency(clock, session_id, answer_id, spoken_seqs if self.tts else frozenset(),
                                                reply_to)
        await self.ports.send_outcome(outcome)
        if self._pending is not None and (not self._pending.spoken_seqs or "first_audio_ms" in self._pending.clock.marks):
            # Its own task: the client may hang up as soon as it has the question, and a write cut off
            # by the socket's cancellation would leave the database connection half closed.
            self._spawn(self._flush_latency())

    # --- latency marks (called for every message the socket sends) ----------------------

    def sent(self, message: ws.ServerMessage) -> None:
        cue = self._cue
        if cue is not None and isinstance(message, ws.SpeechAudio) and message.reply_to_seq is None \
                and (message.text, message.reply_to) == cue[:2]:
            cue[2].mark("cue_ms", time.monotonic())
            self._cue = None
        pending = self._pending
        provisional = isinstance(message, ws.SpeechAudio) and message.provisional
        if provisional and self._replying is not None and message.reply_to == self._replying[0]:
            self._replying[1].mark("first_audio_ms", time.monotonic())  # spoken before the reply was committed
        if pending is None:
            return
        if isinstance(message, ws.QuestionMessage | ws.SessionComplete):
            pending.clock.mark("question_ms", time.monotonic())
        elif isinstance(message, ws.SpeechAudio) and pending.spoken_seqs and (
                message.reply_to_seq in pending.spoken_seqs or (provisional and message.reply_to == pending.reply_to)):
            pending.clock.mark("first_audio_ms", time.monotonic())
            self._spawn(self._flush_latency())

    async def _flush_latency(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            await self.latency.record(pending.answer_id, pending.session_id, pending.clock)
        except Exception:  # a lost latency record must not break the interview
            log.exception("could not store the latency record of answer %s", pending.answer_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- turn detection, barge-in, silence prompt --------------------------------------

    def _callbacks(self, listening: _Listening) -> TurnCallbacks:
        reply_to = listening.started.id
        auto = self.mode == "auto"

        async def speech_start(_: float) -> None:
            if auto:
                await self.ports.send(ws.TurnState(state="speaking", reply_to=reply_to))

        async def pause(probability: float | None) -> None:
            await self.ports.send(ws.TurnState(state="thinking_pause", reply_to=reply_to,
                                               probability=None if probability is None else round(probability, 3)))

        async def sustained() -> None:
            voice = self.ports.voice()
            if not auto or not self.settings.turns.barge_in or voice is None or not voice.speaking():
                return
            stopped = voice.interrupt()
            if stopped is None:
                return
            seq, heard = stopped
            listening.interrupted = True
            await self.ports.guarded(self._interrupted(listening.session_id, seq, heard), None)

        async def turn_end(decision: TurnDecision) -> None:
            if self._listening is not listening:
                return
            self._listening, self._turn_over, self._finishing = None, True, listening.detector
            clock = listening.clock
            clock.mark("turn_ms", time.monotonic())
            clock.reason, clock.probability = decision.reason, decision.probability
            assert listening.detector is not None
            clock.speech_end = listening.detector.wall_time(decision.speech_end_s)
            await self.ports.send(ws.TurnDetected(reason=decision.reason, silence_ms=decision.silence_ms,
                                                  probability=None if decision.probability is None else round(decision.probability, 3),
                                                  reply_to=reply_to))
            self._say_cue(reply_to, clock)
            await self.ports.guarded(self._finish(listening, reply_to), reply_to)

        async def silence() -> None:
            await self.ports.guarded(self._silence_prompt(listening.session_id), None)

        async def settle() -> str | None:
            return await listening.stream.settle()

        def quiet_since() -> float:
            voice = self.ports.voice()
            if voice is None:
                return 0.0
            return max(0.0, voice.playing_until - listening.started_at)

        return TurnCallbacks(on_speech_start=speech_start, on_sustained_speech=sustained, on_pause=pause if auto else None,
                             on_turn_end=turn_end, on_silence=silence if auto else None, settle=settle,
                             quiet_since_s=quiet_since)

    def _say_cue(self, reply_to: str | None, clock: StageClock) -> None:
        """The interviewer takes the turn at once ("All right."), so the candidate knows it was heard to the end
        while the transcript and the reply are being made. Not over the interviewer's own speech."""
        voice = self.ports.voice()
        if not (self.tts and self.settings.turns.cue) or (voice is not None and voice.speaking()):
            return
        style = self.interview.content.styles.get(self.style or "")
        if style is None or not style.turn_cues:
            return
        text = style.turn_cues[self._cues_said % len(style.turn_cues)]  # in turn: never the same twice running
        self._cues_said += 1
        self._cue = (text, reply_to, clock)
        self.ports.say(text, reply_to)

    async def _interrupted(self, session_id: str, seq: int | None, heard: int) -> None:
        await self.ports.send_outcome(await self.interview.speech_interrupted(session_id, seq, heard, None))

    async def _silence_prompt(self, session_id: str) -> None:
        await self.ports.send_outcome(await self.interview.silence_prompt(session_id, None))

    async def aclose(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None:
            await self._close(listening)
        if self._finishing is not None:  # an auto-ended turn is being answered: let it commit
            await self._finishing.wait()
        if self._tasks:  # asyncio.wait, not gather: a cancelled close must not cancel a write in progress
            await asyncio.wait(list(self._tasks))
        await self._flush_latency()



class AnsweringService:
    """The process-wide half: engines and services every socket's `AnswerDesk` uses."""

    def __init__(self, interview: InterviewService, speech: SpeechService | None, turn: TurnEngine | None,
                 latency: LatencyService, settings: Settings) -> None:
        self.interview = interview
        self.speech = speech
        self.turn = turn
        self.latency = latency
        self.settings = settings

    def desk(self, ports: AnswerPorts) -> AnswerDesk:
        return AnswerDesk(self.interview, self.speech, self.turn, self.latency, self.settings, ports)
