"""The Piper voice: sample rate, duration, intelligibility (transcribed back by Whisper), streaming, cache."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from scipy.signal import resample_poly

from app.inference.tts.piper_engine import PiperTts, default_voice
from app.services.content import load_content
from app.services.voice import VoiceService, split_sentences

QUESTION = "Tell me about a time you disagreed with a colleague. How did you resolve it? What would you do differently?"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def samples(pcm16: bytes) -> np.ndarray:
    return np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768


def test_sentence_splitting() -> None:
    assert split_sentences(QUESTION) == [
        "Tell me about a time you disagreed with a colleague.", "How did you resolve it?", "What would you do differently?",
    ]
    assert split_sentences('He said "stop." Then left!  ') == ['He said "stop."', "Then left!"]
    assert split_sentences("   ") == []


def test_audio_has_the_voice_rate_and_a_speaking_duration(piper: PiperTts) -> None:
    expected_rate = json.loads(default_voice()[1].read_text())["audio"]["sample_rate"]
    sentence = split_sentences(QUESTION)[0]
    chunk = piper.synthesize_sync(sentence)
    assert chunk.sample_rate == piper.sample_rate == expected_rate == 22050
    audio = samples(chunk.pcm16)
    n = len(words(sentence))
    # Conversational English is 2-4 words per second; allow for leading/trailing silence.
    assert n / 5 <= chunk.duration_s <= n / 1.5, chunk.duration_s
    assert float(np.sqrt(np.mean(audio**2))) > 0.02  # not silence


def test_spoken_question_transcribes_back_to_its_words(piper: PiperTts, whisper: Any) -> None:
    question = load_content().questions[0].text
    pcm = b"".join(piper.synthesize_sync(s).pcm16 for s in split_sentences(question))
    audio16k = resample_poly(samples(pcm), 320, 441).astype(np.float32)  # 22.05 kHz -> 16 kHz
    segments, _ = whisper.transcribe(audio16k, language="en", beam_size=1)
    heard = words(" ".join(s.text for s in segments))
    said = words(question)
    recall = sum(1 for w in said if w in heard) / len(said)
    assert recall >= 0.85, (question, heard)


@pytest.mark.asyncio
async def test_stream_yields_the_first_sentence_before_the_rest_is_made(piper: PiperTts) -> None:
    voice = VoiceService(piper, frozenset(), cache_entries=8)
    before = piper.sentences
    stream = voice.stream(QUESTION)
    index, total, first = await anext(stream)
    assert (index, total) == (0, 3) and first.text.startswith("Tell me")
    assert piper.sentences - before == 1  # only the first sentence was synthesised so far
    rest = [item async for item in stream]
    assert [i for i, _, _ in rest] == [1, 2]


@pytest.mark.asyncio
async def test_bank_questions_are_cached_other_texts_are_not(piper: PiperTts) -> None:
    bank = load_content().questions[1].text
    voice = VoiceService(piper, frozenset({bank}), cache_entries=8)
    first = [c async for _, _, c in voice.stream(bank)]
    made = piper.sentences
    again = [c async for _, _, c in voice.stream(bank)]
    assert piper.sentences == made and voice.hits == 1
    assert [c.pcm16 for c in again] == [c.pcm16 for c in first]
    [c async for _, _, c in voice.stream("Thanks, that was clear.")]
    [c async for _, _, c in voice.stream("Thanks, that was clear.")]
    assert voice.hits == 1 and voice.misses == 3


@pytest.mark.asyncio
async def test_cache_is_bounded(piper: PiperTts) -> None:
    texts = [q.text for q in load_content().questions[:2]]
    voice = VoiceService(piper, frozenset(texts), cache_entries=1)
    for text in (*texts, texts[0]):
        [c async for _, _, c in voice.stream(text)]
    assert voice.health()["cached"] == 1 and voice.hits == 0  # the first was evicted by the second
