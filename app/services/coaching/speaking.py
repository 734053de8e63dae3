"""Speak the LLM's interviewer message while it is being written, one complete sentence at a time.

The text is the model's, not yet validated: a sentence is spoken only while the draft so far could
still pass the output schema (no markup, within the length cap). From the first sign that it cannot,
nothing more is said; the heuristic reply that replaces it is then spoken where it differs.
"""

from __future__ import annotations

from app.services.coaching.base import InterviewerSpeech
from app.services.coaching.llm_prompt import INTERVIEWER_MESSAGE_MAX_CHARS, MARKUP
from app.services.voice import SentenceStream


class SpokenDraft:
    """Feed it the decoded text of the streamed `interviewer_message`; it says each sentence once complete."""

    def __init__(self, speech: InterviewerSpeech) -> None:
        self.speech = speech
        self._sentences = SentenceStream()
        self._draft = ""  # everything written so far
        self._spoken = ""  # the sentences said so far, normalised as the schema normalises them
        self.stopped = False

    def feed(self, text: str) -> None:
        for sentence in self._sentences.feed(text):
            self._say(sentence)
        self._draft += text
        if _rejected(self._draft):
            self.stopped = True  # the schema will reject this message: say nothing more of it

    def finish(self) -> None:
        """The message is complete: its last sentence goes too, and nothing more comes."""
        for sentence in self._sentences.flush():
            self._say(sentence)
        self.speech.close()

    def _say(self, sentence: str) -> None:
        if self.stopped:
            return
        sentence = " ".join(sentence.split())
        self._spoken = f"{self._spoken} {sentence}".strip()
        if _rejected(self._spoken):
            self.stopped = True
            return
        self.speech.say(sentence)


def _rejected(text: str) -> bool:
    return MARKUP.search(text) is not None or len(" ".join(text.split())) > INTERVIEWER_MESSAGE_MAX_CHARS
