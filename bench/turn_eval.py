"""End-of-turn detection on labelled pauses built from real recordings and synthetic sentences.

Each utterance (a recording, or a sentence spoken by the bundled Piper voice) is cut

* at its end, followed by 4 s of room noise: a **complete** answer, to be detected within 1.0 s of the
  end of speech (the VAD's end, as the service measures it);
* after each inner word (a word boundary from faster-whisper's word times), followed by 1-3 s of room
  noise: an **incomplete** answer with a thinking pause, which must not be cut before the pause ends.

When the model says "over", the sample's audio up to that moment is transcribed the way the service
does it at a pause (`Settler`); unless that transcript ends a sentence the turn goes on.
The time that transcription took on this machine is added to the decision's delay.
Run: `python -m bench.turn_eval [--backend smart-turn-v3|silence] [--pause-s 0.2] [--threshold 0.5] [--no-piper]`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.inference.turn.base import SAMPLE_RATE, TurnEngine
from app.services.turns import detect_offline
from app.settings import SttSettings, TurnSettings

ROOT = Path(__file__).resolve().parents[1]
SPEECH_DIRS = (ROOT / "tests" / "data" / "speech",)
NOISE_DBFS = -60.0
COMPLETE_TAIL_S = 4.0
GOAL_DELAY_S = 1.0
EARLY_SLACK_S = 0.35  # the VAD's end of speech vs. Whisper's word end

# Interview-style answers, one sentence each (the synthetic half of the set).
SENTENCES = (
    "I led the migration of our billing system to a new database, and we finished two weeks early.",
    "My biggest weakness is that I sometimes take on too much work myself.",
    "In my last role I managed a team of five engineers.",
    "When the deadline moved, I sat down with the product owner and we cut the scope together.",
    "I would start by asking the customer what problem they are really trying to solve.",
    "The hardest bug I fixed was a race condition in our payment service.",
    "I chose this company because your products help small businesses grow.",
    "We measured the results every week and shared them with the whole team.",
    "After that project, I started writing design documents before any code.",
    "I think good feedback is specific, timely and kind.",
    "My manager asked me to train two new colleagues during my first month.",
    "I learned that listening is more important than having the answer right away.",
    "The project failed because we never agreed on what success looked like.",
    "In five years I hope to lead a product team of my own.",
    "I handled the conflict by meeting each person separately first.",
    "Our test coverage went from forty percent to almost ninety percent.",
    "I usually plan my week on Monday morning and review it on Friday.",
    "The customer was angry, so I called him the same afternoon to apologise.",
    "I moved to data engineering because I enjoy building reliable pipelines.",
    "That experience taught me to ask for help earlier.",
)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Utterance:
    name: str
    audio: np.ndarray
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Sample:
    name: str
    complete: bool
    audio: np.ndarray
    cut_s: float  # where the speech was cut (for incomplete: where the pause starts)
    pause_s: float  # the silence after the cut (incomplete) or after the end (complete)
    words: tuple[Word, ...]  # words before the cut


def noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 10 ** (NOISE_DBFS / 20)).astype(np.float32)


def speech_dir() -> Path | None:
    return next((d for d in SPEECH_DIRS if (d / "clean").is_dir()), None)


def recordings() -> list[tuple[str, np.ndarray]]:
    from app.inference.audio import decode_audio

    found = speech_dir()
    if found is None:
        return []
    paths = sorted([*(found / "clean").glob("*.flac"), *(found / "fillers").glob("*.flac"), *(found / "fillers").glob("*.wav")])
    return [(p.stem, decode_audio(p.read_bytes(), max_seconds=120)) for p in paths]


def piper_sentences(sentences: tuple[str, ...] = SENTENCES) -> list[tuple[str, np.ndarray]]:
    import soxr
    from piper import SynthesisConfig

    from app.inference.tts.piper_engine import _load_voice, default_voice

    voice = _load_voice(*default_voice(), False)
    # No sampling noise: the same sentences give the same audio on every run, so figures and tests repeat.
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    rate = int(voice.config.sample_rate)
    out = []
    for i, sentence in enumerate(sentences):
        pcm16 = b"".join(c.audio_int16_bytes for c in voice.synthesize(sentence, config))
        pcm = np.frombuffer(pcm16, "<i2").astype(np.float32) / 32768
        out.append((f"piper-{i:02d}", soxr.resample(pcm, rate, SAMPLE_RATE).astype(np.float32)))
    return out


def utterances(sources: list[tuple[str, np.ndarray]]) -> list[Utterance]:
    """Word times from the service's own speech-to-text engine (faster-whisper tiny.en)."""
    from app.inference.stt.faster import FasterWhisperEngine

    stt = FasterWhisperEngine(SttSettings(vad=False, min_window_s=30))
    out = []
    for name, audio in sources:
        transcript = stt.transcribe_sync(audio, prompt="")
        words = tuple(Word(w.word.strip(), w.start, w.end) for w in transcript.words)
        if len(words) >= 3:
            out.append(Utterance(name, audio, words))
    return out


def quiet_point(audio: np.ndarray, end: float, next_start: float) -> float:
    """Where to cut after a word: the quietest 10 ms in the gap before the next word, or within 60 ms of
    the word's end when there is no gap (Whisper's word ends are loose; a cut into a word sounds abrupt)."""
    lo, hi = (end, next_start) if next_start - end >= 0.06 else (end - 0.06, end + 0.06)
    hop = SAMPLE_RATE // 100
    first, last = max(0, int(lo * SAMPLE_RATE)), min(audio.size - hop, int(hi * SAMPLE_RATE))
    if last <= first:
        return end
    levels = [float(np.mean(audio[i:i + hop] ** 2)) for i in range(first, last, hop)]
    return (first + hop * int(np.argmin(levels)) + hop // 2) / SAMPLE_RATE


def build_set(utts: list[Utterance], seed: int = 13, stride: int = 1) -> list[Sample]:
    """Every utterance complete, and cut after every `stride`-th inner word."""
    rng = np.random.default_rng(seed)
    samples = []
    for u in utts:
        end = min(u.audio.size, int((u.words[-1].end + 0.3) * SAMPLE_RATE))
        samples.append(Sample(u.name, True, np.concatenate([u.audio[:end], noise(COMPLETE_TAIL_S, rng)]),
                              u.words[-1].end, COMPLETE_TAIL_S, u.words))
        for i in range(1, len(u.words) - 1, stride):  # after the 2nd word, before the last
            a, b = u.words[i], u.words[i + 1]
            cut = quiet_point(u.audio, a.end, b.start)
            pause = float(rng.uniform(1.0, 3.0))
            audio = np.concatenate([u.audio[: int(cut * SAMPLE_RATE)], noise(pause, rng)])
            samples.append(Sample(f"{u.name}@{i}", False, audio, cut, pause, u.words[: i + 1]))
    return samples


@dataclass(frozen=True)
class Result:
    sample: Sample
    decided: bool
    early: bool  # decided in a pause before the cut
    reason: str | None
    delay_s: float | None  # decision - end of speech (VAD)
    probability: float | None


class Settler:
    """The transcript the service reads at a pause (`StreamingTranscription.settle`): a display pass of the
    service's faster-whisper over the newest 6 s of the open window (windows cut at pauses as the service
    cuts them). The live service decides only when that pass is done, so its time on this machine is kept
    (`last_s`) and added to the decision's delay."""

    def __init__(self, *, timed: bool = True) -> None:
        """`timed=False`: delays in audio time only (tests: no dependence on the machine's load)."""
        from app.inference.stt.faster import FasterWhisperEngine

        self.timed = timed
        self.settings = SttSettings()
        self.stt = FasterWhisperEngine(self.settings)
        self.stt.transcribe_sync(np.zeros(SAMPLE_RATE, np.float32) + 1e-3)  # load the model outside the timing
        self.last_s = 0.0

    def __call__(self, audio: np.ndarray) -> str:
        from app.services.speech_windows import cut_points

        cuts = cut_points(audio, self.settings)
        start = max(cuts[-1] if cuts else 0, audio.size - 6 * SAMPLE_RATE)
        started = time.perf_counter()
        text = self.stt.transcribe_sync(audio[start:], prompt="", preview=True).text
        self.last_s = time.perf_counter() - started if self.timed else 0.0
        return text


def run(engine: TurnEngine, samples: list[Sample], settings: TurnSettings, settler: Settler | None = None) -> list[Result]:
    """`settler`: the transcript evidence (None: the model and the VAD only)."""
    results = []
    for s in samples:
        if settler is not None:
            settler.last_s = 0.0
        decision, tracker = detect_offline(engine, s.audio, settings, settle=settler)
        # A decision in a pause before the cut ends the turn too early (a natural mid-sentence pause).
        early = decision is not None and decision.speech_end_s < s.cut_s - EARLY_SLACK_S
        delay = None
        if decision is not None:
            waited = settler.last_s if settler is not None and decision.reason == "smart_turn" else 0.0
            delay = round(decision.at_s - decision.speech_end_s + waited, 3)
        results.append(Result(s, decision is not None, early, decision.reason if decision else None, delay,
                              tracker.probability))
    return results


def summarise(results: list[Result]) -> dict[str, float | int]:
    complete = [r for r in results if r.sample.complete]
    incomplete = [r for r in results if not r.sample.complete]
    short = [r for r in incomplete if r.sample.pause_s <= 2.0]
    in_time = [r for r in complete if r.decided and not r.early and r.delay_s is not None and r.delay_s <= GOAL_DELAY_S]
    delays = [r.delay_s for r in complete if r.delay_s is not None and not r.early]
    return {
        "complete": len(complete), "complete_within_1s": round(len(in_time) / len(complete), 3) if complete else 0.0,
        "complete_cut_early": round(sum(r.early for r in complete) / len(complete), 3) if complete else 0.0,
        "complete_delay_p50_s": round(float(np.percentile(delays, 50)), 3) if delays else -1,
        "complete_delay_p95_s": round(float(np.percentile(delays, 95)), 3) if delays else -1,
        "incomplete": len(incomplete), "pauses_up_to_2s": len(short),
        "not_cut_up_to_2s": round(1 - sum(r.decided for r in short) / len(short), 3) if short else 0.0,
        "not_cut_all": round(1 - sum(r.decided for r in incomplete) / len(incomplete), 3) if incomplete else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="smart-turn-v3", choices=["smart-turn-v3", "silence"])
    parser.add_argument("--pause-s", type=float, default=TurnSettings().pause_s)
    parser.add_argument("--threshold", type=float, default=TurnSettings().threshold)
    parser.add_argument("--max-pause-s", type=float, default=TurnSettings().max_pause_s)
    parser.add_argument("--no-transcript", action="store_true", help="the model and the VAD only")
    parser.add_argument("--no-piper", action="store_true", help="real recordings only")
    parser.add_argument("--show", action="store_true", help="print every wrong decision")
    args = parser.parse_args()
    from app.inference.turn.smart_turn import SileroTurnEngine, SmartTurnEngine

    settings = TurnSettings(backend=args.backend, pause_s=args.pause_s, threshold=args.threshold, max_pause_s=args.max_pause_s,
                            use_transcript=not args.no_transcript)
    engine = SmartTurnEngine(settings) if args.backend == "smart-turn-v3" else SileroTurnEngine(settings)
    started = time.perf_counter()
    settler = Settler()
    real = utterances(recordings())
    synthetic = [] if args.no_piper else utterances(piper_sentences())
    print(f"speech from {speech_dir()}; {len(real)} recordings, {len(synthetic)} synthetic sentences "
          f"({time.perf_counter() - started:.1f} s to prepare)")
    for label, utts in (("recordings", real), ("piper", synthetic), ("all", real + synthetic)):
        if not utts:
            continue
        results = run(engine, build_set(utts), settings, None if args.no_transcript else settler)
        print(label, summarise(results))
        if args.show:
            for r in results:
                wrong = (r.decided and not r.sample.complete) or (r.sample.complete and (
                    r.early or r.delay_s is None or r.delay_s > GOAL_DELAY_S))
                if wrong:
                    print("   ", r.sample.name, "complete" if r.sample.complete else "incomplete",
                          "early" if r.early else "", r.reason, r.delay_s,
                          r.probability and round(r.probability, 3), "|", " ".join(w.text for w in r.sample.words[-4:]))
    print(engine.health())


if __name__ == "__main__":
    main()
