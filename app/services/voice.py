"""The interviewer's spoken voice: sentence splitting and the cache of question-bank audio."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import AsyncIterator

from app.inference.tts.base import SpeechChunk, TtsEngine

# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by white space.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, in order, without empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


class VoiceService:
    """Streams speech sentence by sentence; remembers the audio of the bank's questions.

    Only question-bank texts are cached (a finite set that recurs across sessions); coach
    messages are one-offs. The cache is an in-memory LRU keyed by (voice, text).
    """

    def __init__(self, engine: TtsEngine, cacheable_texts: frozenset[str], cache_entries: int) -> None:
        self.engine = engine
        self.cacheable = cacheable_texts
        self.cache_entries = cache_entries
        self._cache: OrderedDict[tuple[str, str], tuple[SpeechChunk, ...]] = OrderedDict()
        self.hits = self.misses = 0

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
        if text in self.cacheable and self.cache_entries > 0:
            self._cache[key] = tuple(made)
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)

    def health(self) -> dict[str, int]:
        return {"cached": len(self._cache), "hits": self.hits, "misses": self.misses}
