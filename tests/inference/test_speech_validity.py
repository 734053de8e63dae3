"""Speech measures on speech they were not tuned on, bounded decoding, determinism and fair sharing (issue 11).

Floors here are regression checks with room for a different CPU's int8 kernels; the figures themselves
come from `bench/stt_validity.py` (README "Accuracy").
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import numpy as np
import pytest

from app.inference.audio import SAMPLE_RATE, float_to_pcm16
from app.inference.speech_metrics.librosa_backend import measure
from app.inference.stt.base import Word, join_words
from app.inference.stt.faster import FasterWhisperEngine
from app.inference.workers import FairLimiter, InferenceWorkers, inference_owner
from app.services.speech import count_fillers_spoken
from app.services.speech_stream import StreamingTranscription, transcribe_windows
from app.services.speech_windows import PauseSegmenter, cut_points
from app.settings import SpeechMetricsSettings, SttSettings
from tests.inference import corpus
from tests.inference.speech_helpers import score_fillers

STT = SttSettings()
METRICS = SpeechMetricsSettings()


@pytest.fixture(scope="module")
def engine() -> FasterWhisperEngine:
    return FasterWhisperEngine(STT, "cpu")


def _words(*pieces: str) -> list[Word]:
    return [Word(p, 0.0, 0.0, 1.0) for p in pieces]


def test_joined_word_pieces_read_as_written() -> None:
    assert join_words(_words(" a", " cold", "-hearted", " man")) == "a cold-hearted man"
    assert join_words(_words(" ill", " -disposed")) == "ill-disposed"
    assert join_words(_words(" I", " don", "'t", " know.")) == "I don't know."
    assert join_words(_words(" well", ",", " so")) == "well, so"
    assert join_words(_words("first", " word")) == "first word"  # a pass's first word may lack its space


def test_fair_limiter_serves_owners_in_turn() -> None:
    async def scenario() -> list[str]:
        limiter = FairLimiter(1)
        order: list[str] = []

        async def job(owner: str, label: str) -> None:
            await limiter.acquire(owner)
            order.append(label)
            await asyncio.sleep(0.001)
            limiter.release()

        hog = [asyncio.create_task(job("hog", f"hog{i}")) for i in range(6)]
        await asyncio.sleep(0)
        victim = asyncio.create_task(job("victim", "victim"))
        await asyncio.gather(*hog, victim)
        return order

    order = asyncio.run(scenario())
    assert order.index("victim") <= 2, order  # behind the job running and at most one more, not all six


def test_urgent_work_goes_before_the_queue_and_a_cancelled_one_frees_nothing_twice() -> None:
    async def scenario() -> list[str]:
        limiter = FairLimiter(1)
        order: list[str] = []

        async def job(owner: str, label: str, urgent: bool = False) -> None:
            await limiter.acquire(owner, urgent=urgent)
            order.append(label)
            await asyncio.sleep(0.001)
            limiter.release()

        queued = [asyncio.create_task(job(o, f"{o}{i}")) for i in range(3) for o in ("a", "b")]
        await asyncio.sleep(0)
        dropped = asyncio.create_task(job("c", "dropped", urgent=True))
        urgent = asyncio.create_task(job("c", "urgent", urgent=True))
        await asyncio.sleep(0)
        dropped.cancel()
        await asyncio.gather(*queued, urgent, dropped, return_exceptions=True)
        assert limiter._free == 1 and limiter.queued == 0
        return order

    order = asyncio.run(scenario())
    assert order.index("urgent") == 1 and "dropped" not in order, order  # right after the job that was running


def test_cancelled_waiter_does_not_leak_the_slot() -> None:
    async def scenario() -> int:
        limiter = FairLimiter(1)
        await limiter.acquire("a")
        waiter = asyncio.create_task(limiter.acquire("b"))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        limiter.release()
        await asyncio.wait_for(limiter.acquire("c"), 1)  # the slot came back
        return limiter.queued

    assert asyncio.run(scenario()) == 0


def test_workers_interleave_owners() -> None:
    async def scenario() -> list[str]:
        workers = InferenceWorkers(1, "test")
        done: list[str] = []

        def work(label: str) -> str:
            time.sleep(0.01)
            return label

        async def as_owner(owner: str, count: int) -> None:
            inference_owner.set(owner)
            for label in await asyncio.gather(*(workers.run(work, f"{owner}{i}") for i in range(count))):
                done.append(label)

        order: list[str] = []
        original = workers._executor.submit

        def record(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            order.append(args[0])
            return original(fn, *args, **kwargs)

        workers._executor.submit = record  # type: ignore[method-assign]
        await asyncio.gather(as_owner("a", 5), as_owner("b", 2))
        await workers.close()
        return order

    order = asyncio.run(scenario())
    assert order.index("b1") < order.index("a4"), order


def test_cut_points_do_not_depend_on_how_audio_arrives() -> None:
    audio = corpus.long_answer(90)
    whole = cut_points(audio, STT)
    segmenter = PauseSegmenter(STT)
    rng = np.random.default_rng(3)
    offset = 0
    while offset < audio.size:
        size = int(rng.integers(100, 6000))
        segmenter.feed(audio[offset:offset + size])
        offset += size
    assert len(whole) >= 4 and segmenter.cuts == whole
    # every cut lies in a pause: quieter than the speech around it
    for cut in whole:
        around = audio[cut - 800:cut + 800]
        assert float(np.sqrt(np.mean(around**2))) < 0.3 * float(np.sqrt(np.mean(audio**2))), cut


def test_the_same_audio_streamed_at_two_paces_or_sent_whole_gives_the_same_words(engine: FasterWhisperEngine) -> None:
    audio = next(c.audio for c in corpus.spliced_clips() if c.name == "jfk/+0dB")

    async def streamed(frame_s: float, pause_s: float) -> str:
        stream = StreamingTranscription(engine, SAMPLE_RATE, STT)
        pcm = float_to_pcm16(audio)
        step = int(frame_s * SAMPLE_RATE) * 2
        for offset in range(0, len(pcm), step):
            stream.push(pcm[offset:offset + step])
            await asyncio.sleep(pause_s)
        return (await stream.finish()).text

    whole = asyncio.run(transcribe_windows(engine, audio, STT)).text
    assert whole
    assert asyncio.run(streamed(0.1, 0.0)) == whole
    assert asyncio.run(streamed(0.032, 0.01)) == whole


def test_hesitant_speech_decodes_in_bounded_time(engine: FasterWhisperEngine) -> None:
    """No temperature fallbacks or repetition loops: hesitation costs about what fluent speech of the same
    length costs (it cost 5-10x before). Relative to a fluent clip timed alongside, so load cancels out."""
    fluent = next(a for n, a, _ in corpus.carriers() if n == "jfk")
    ratios = []
    for clip in corpus.hesitant_clips():
        fluent_part = fluent[: clip.audio.size]
        started = time.perf_counter()
        asyncio.run(transcribe_windows(engine, fluent_part, STT))
        reference = time.perf_counter() - started
        started = time.perf_counter()
        asyncio.run(transcribe_windows(engine, clip.audio, STT))
        ratios.append((time.perf_counter() - started) / reference)
    assert max(ratios) < 3.0, ratios


@pytest.fixture(scope="module")
def held_out(engine: FasterWhisperEngine) -> list[tuple[corpus.Clip, Counter[str]]]:
    out = []
    for clip in corpus.spliced_clips():
        if "st/" in clip.name or "-slow/" in clip.name:
            continue  # the shifted and slowed twins: the benchmark scores them, the test keeps to the three voices
        transcript = asyncio.run(transcribe_windows(engine, clip.audio, STT))
        out.append((clip, count_fillers_spoken(transcript, measure(clip.audio, METRICS))[0]))
    return out


def test_filler_counts_hold_on_other_voices(held_out: list[tuple[corpus.Clip, Counter[str]]]) -> None:
    """Fillers from the development recordings spliced into six other voices, plus the voices untouched.
    bench/stt_validity.py measures 0.88 / 0.89 per clip and type with each voice left out of the choice of
    thresholds; the floors leave room for other CPUs' int8 kernels."""
    recall, precision = score_fillers([found for _, found in held_out], [clip.fillers for clip, _ in held_out])
    assert recall >= 0.65 and precision >= 0.55, (recall, precision)


def test_fluent_speech_gets_few_false_fillers(held_out: list[tuple[corpus.Clip, Counter[str]]]) -> None:
    fluent = [(clip, found) for clip, found in held_out if clip.group == "fluent"]
    minutes = sum(clip.seconds for clip, _ in fluent) / 60
    false = sum(sum(found.values()) for _, found in fluent)
    assert false / minutes <= 6, (false, minutes)
