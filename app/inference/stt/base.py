"""What every speech-to-text backend offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

# Whisper is trained on clean transcripts and drops "um"/"uh". A prompt written in a
# verbatim style makes it keep many of them, at ~25 % more decoding (it also makes Whisper
# end windows early, so more 30 s windows get encoded); the acoustic detector finds them
# without it, so the prompt is off by default (STT__FILLER_PROMPT).
FILLER_PROMPT = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, you know, um, I mean."


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float

    def shifted(self, offset: float) -> Word:
        return Word(self.word, round(self.start + offset, 3), round(self.end + offset, 3), self.probability)


@dataclass(frozen=True)
class Transcript:
    text: str
    words: tuple[Word, ...] = ()
    duration_s: float = 0.0
    language: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


_GLUED_START = ("-", "'", "’", "…", ",", ".", "!", "?", ";", ":", "%")


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    """The words as a person would write them.

    Whisper marks a new word with a leading space; a piece without one continues the word before
    ("cold" + "-hearted", "don" + "'t"). A word from another decoding pass may lack the space although
    it starts a word, so only pieces that cannot start a word (hyphen, apostrophe, punctuation) are
    glued, and a space is never put before a hyphen or apostrophe piece, nor after a trailing hyphen.
    """
    out: list[str] = []
    for w in words:
        piece = w.word.strip()
        if not piece:
            continue
        glue = out and (piece.startswith(_GLUED_START) or out[-1].endswith("-")) and not w.word.startswith(" ")
        glue = glue or (out and piece.startswith(("-", "'", "’")) and w.word.startswith(" ") and len(piece) > 1
                        and piece[1].isalpha() and piece.lower() not in ("'cause", "'til", "'em"))
        if glue:
            out[-1] += piece
        else:
            out.append(piece)
    return " ".join(out)


@runtime_checkable
class SpeechToText(Protocol):
    """Transcribes 16 kHz mono float32 audio with word times.

    `transcribe` never blocks the event loop: backends run the model in a worker
    thread behind their own concurrency limit. Silence or noise gives an empty
    transcript, not invented text.
    """

    name: str

    async def transcribe(self, audio: np.ndarray, *, prompt: str | None = None, preview: bool = False) -> Transcript:
        """`prompt`: None = the backend's configured default (FILLER_PROMPT or none), "" = no prompt.
        `preview`: a display-only pass (transcript_partial) that may trade accuracy for speed.

        Decoding is deterministic (the same audio gives the same words) and bounded in time: no
        re-decoding at random temperatures, and a cap on the tokens per second of audio."""
        ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None: ...

    async def aclose(self) -> None: ...
