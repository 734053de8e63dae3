"""The interviewer's spoken voice: sentence splitting, the audio cache of the texts that recur
(question bank, style cards), and what is left to say of a message partly spoken in advance."""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence

from app.inference.tts.base import SpeechChunk, TtsEngine
from app.services.content import StyleCard

log = logging.getLogger(__name__)

# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by white space.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, in order, without empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


class SentenceStream:
    """Cuts text that arrives in pieces into the sentences `split_sentences` would find in the whole.

    A sentence is complete once the white space after its end has arrived: the same rule, so the
    sentences spoken while a message is written are the sentences of the message.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        *complete, self._buffer = _SENTENCE_END.split(self._buffer)
        return [s.strip() for s in complete if s.strip()]

    def flush(self) -> list[str]:
        """The text is complete: its last sentence, if any."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


def _same(a: str, b: str) -> bool:
    return a.split() == b.split()  # white space may differ: the stored text is normalised to one line


def said_in(final: str, said: Sequence[str]) -> int:
    """How many of the sentences `said`, in order, are the first sentences of `final`."""
    sentences = split_sentences(final)
    kept = 0
    for sentence in said:
        if kept < len(sentences) and _same(sentences[kept], sentence):
            kept += 1
        else:
            break
    return kept


def unspoken(final: str, said: Sequence[str]) -> str:
    """What of the durable message `final` is left to say when the sentences `said` were spoken ahead of it.

    Sentences are matched in order; from the first sentence of `final` that differs from what was said
    (or that was not said) to its end, `final` is spoken. So an acknowledgement said at once is not said
    again, and a message that replaced what was said (the heuristic answer after rejected LLM output)
    is spoken from where it departs from it.
    """
    return " ".join(split_sentences(final)[said_in(final, said):])


def style_texts(styles: Iterable[StyleCard]) -> frozenset[str]:
    """Every fixed text a style card makes the interviewer say: a finite set, worth caching."""
    texts: set[str] = set()
    for style in styles:
        texts.update(style.acknowledgements, style.turn_cues, (style.silence_prompt, style.closing))
        for options in style.acknowledgements_by_fit.values():
            texts.update(options)
    return frozenset(t for t in texts if t.strip())


class VoiceService:
    """Streams speech sentence by sentence; remembers the audio of texts that recur.

    Only the texts given as cacheable are cached (the bank's questions and the style cards'
    acknowledgements and prompts: finite sets that recur across sessions); coach messages are
    one-offs. The cache is an in-memory LRU keyed by (voice, text).
    """

    def __init__(self, engine: TtsEngine, cacheable_texts: frozenset[str], cache_entries: int) -> None:
        self.engine = engine
        self.cacheable = cacheable_texts
        self.cache_entries = cache_entries
        self._cache: OrderedDict[tuple[str, str], tuple[SpeechChunk, ...]] = OrderedDict()
        self.hits = self.misses = 0
        self.presynthesised = 0
        self.presynthesis_s: float | None = None  # wall time of the background pass, once it has finished

    async def stream(self, text: str) -> AsyncIterator[tuple[int, int, SpeechChunk]]:
        """Yield (index, sentence count, audio) for each sentence as soon as it is synthesised."""
        key = (self.engine.voice, text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            for index, chunk in enumerate(cached):
                yield index, len(cached), chunk
            return
        self.misses += 1
        sentences = split_sentences(text)
        made: list[SpeechChunk] = []
        for index, sentence in enumerate(sentences):
            chunk = await self.engine.synthesize(sentence)
            made.append(chunk)
            yield index, len(sentences), chunk
        self._keep(text, made)

    def _keep(self, text: str, made: list[SpeechChunk]) -> None:
        if text in self.cacheable and self.cache_entries > 0:
            self._cache[(self.engine.voice, text)] = tuple(made)
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)

    async def presynthesise(self, texts: Iterable[str]) -> None:
        """Fill the cache with `texts` (cacheable ones only), one sentence at a time.

        Meant for a background task after start-up: each sentence waits its turn at the engine's
        fair limiter like any session's, so a live session waits at most one sentence for it.
        """
        started = time.perf_counter()
        for text in texts:
            if text not in self.cacheable or (self.engine.voice, text) in self._cache:
                continue
            self._keep(text, [await self.engine.synthesize(s) for s in split_sentences(text)])
            self.presynthesised += 1
        self.presynthesis_s = round(time.perf_counter() - started, 2)
        log.info("pre-synthesised %d texts in %.1f s", self.presynthesised, self.presynthesis_s)

    def health(self) -> dict[str, int | float | None]:
        return {"cached": len(self._cache), "hits": self.hits, "misses": self.misses,
                "presynthesised": self.presynthesised, "presynthesis_s": self.presynthesis_s}
