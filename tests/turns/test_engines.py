"""The turn engines' building blocks against independent references: streamed Silero VAD vs faster-whisper's
whole-file pass, the log-mel features vs librosa's own STFT and mel spectrogram."""

from __future__ import annotations

import numpy as np
import pytest

from app.inference.turn.base import VAD_WINDOW, VadState
from app.inference.turn.features import WINDOW_SAMPLES, last_window, log_mel
from app.inference.turn.smart_turn import DEFAULT_MODEL, MODEL_SHA256, SmartTurnEngine
from app.inference.turn.vad import SileroVad
from app.settings import TurnSettings
from bench.turn_eval import piper_sentences
from tests.inference.speech_helpers import SPEECH, load


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return piper_sentences(("I managed a team of five engineers, and we shipped every quarter.",))[0][1]


def test_streamed_vad_equals_the_whole_file_pass(speech: np.ndarray) -> None:
    from faster_whisper.vad import get_vad_model

    audio = speech[: speech.size // VAD_WINDOW * VAD_WINDOW]
    reference = get_vad_model()(audio).reshape(-1)
    vad, state = SileroVad(), VadState()
    pieces = [vad(state, audio[i:i + 3 * VAD_WINDOW]) for i in range(0, audio.size, 3 * VAD_WINDOW)]
    streamed = np.concatenate(pieces)
    assert streamed.shape == reference.shape
    np.testing.assert_allclose(streamed, reference, atol=1e-5)
    assert streamed.max() > 0.9 and streamed[:3].max() < 0.5  # speech found, the leading silence is not speech


def test_log_mel_matches_librosa(speech: np.ndarray) -> None:
    import librosa

    window = last_window(speech)
    assert window.size == WINDOW_SAMPLES and not window[: WINDOW_SAMPLES - speech.size].any()  # padded at the front
    ours = log_mel(window)
    x = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
    power = np.abs(librosa.stft(x.astype(np.float64), n_fft=400, hop_length=160, window="hann", center=True,
                                pad_mode="reflect")) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=16000, n_mels=80, fmin=0, fmax=8000, htk=False, norm="slaney")
    ref = np.log10(np.maximum(mel, 1e-10))[:, :-1]
    ref = (np.maximum(ref, ref.max() - 8.0) + 4.0) / 4.0
    assert ours.shape == (80, 800)
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_the_bundled_model_is_the_one_documented() -> None:
    import hashlib

    assert hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest() == MODEL_SHA256
    assert (DEFAULT_MODEL.parent / "LICENSE-smart-turn.txt").read_text().startswith("BSD 2-Clause License")


def test_smart_turn_hears_a_finished_sentence() -> None:
    # A recording, not Piper: Piper's voice is sampled with noise, and the model's score on one synthetic
    # sentence moved between 0.64 and 0.96 from run to run; on this recording it is 0.987.
    engine = SmartTurnEngine(TurnSettings())
    pad = np.zeros(3200, np.float32)
    finished = engine.end_of_turn_sync(np.concatenate([load(SPEECH / "clean" / "61-70968-0000.flac"), pad]))
    assert finished is not None and finished > 0.9
    assert engine.health()["calls"] == 1 and engine.health()["status"] == "ok"
