"""What the words of an answer say: fillers, hedges and the parts of a STAR answer."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")

# Non-lexical fillers and their spelling variants, folded to one canonical type.
_VOCAL_FILLERS = {
    "um": "um", "umm": "um", "ummm": "um", "erm": "um",
    "uh": "uh", "uhh": "uh", "uhm": "uh",
    "er": "er", "err": "er",
    "ah": "ah", "ahh": "ah",
    "hmm": "hmm", "hm": "hmm", "hmmm": "hmm", "mm": "hmm", "mhm": "hmm",
}
_LEXICAL_FILLERS = ("you know", "i mean", "sort of", "kind of")
# "like" is a filler only when it is not a verb or a preposition with an object.
_LIKE_NOT_FILLER_BEFORE = {"would", "i", "you", "we", "they", "he", "she", "it", "looks", "look",
                           "looked", "feel", "felt", "feels", "seem", "seemed", "something", "just",
                           "much", "more", "don't", "didn't", "do", "did", "really", "things", "sounds"}
_LIKE_NOT_FILLER_AFTER = {"to", "that", "this", "it", "them", "him", "her"}
_KIND_SORT_NOT_FILLER_BEFORE = {"what", "which", "the", "a", "this", "that", "same", "any", "some", "every"}

HEDGES = ("i think", "i guess", "i suppose", "i believe", "maybe", "perhaps", "probably",
          "possibly", "might", "somewhat", "hopefully", "i'm not sure", "i am not sure")

STAR_CUES = {
    "situation": re.compile(r"\b(when i was|at my (previous|last|current)|in my (last|previous|current)? ?(role|job|team)|"
                            r"we were|there was|the situation|the context|back in|last year|at the time|"
                            r"while working|our (team|company|project|client))\b"),
    "task": re.compile(r"\b(my (task|job|goal|responsibility|role) was|responsible for|i (needed|had|was asked) to|"
                       r"the goal was|we needed to|the challenge was|objective)\b"),
    "action": re.compile(r"\bi (\w+ed|led|made|took|built|wrote|spoke|ran|set|began|found|gave|chose|brought|"
                         r"met|sent|got|did|went|put|sat|drew|taught|kept|held|told|thought|came)\b|"
                         r"\b(so i|then i|first i|i decided|i started)\b"),
    "result": re.compile(r"\b(as a result|result(ed)?|outcome|in the end|eventually|ended up|increas\w*|reduc\w*|"
                         r"improv\w*|sav(ed|ing)|deliver(ed)?|achiev\w*|succeed\w*|success\w*|launch(ed)?|"
                         r"finished|on time|learn(ed|t))\b|\d+ ?(%|percent)"),
}


@dataclass(frozen=True)
class TextAnalysis:
    word_count: int
    fillers: dict[str, int] = field(default_factory=dict)
    hedges: dict[str, int] = field(default_factory=dict)
    star_parts: frozenset[str] = frozenset()
    has_numbers: bool = False

    @property
    def filler_count(self) -> int:
        return sum(self.fillers.values())

    @property
    def hedge_count(self) -> int:
        return sum(self.hedges.values())


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD_RE.findall(text)]


def count_fillers(tokens: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else ""
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _VOCAL_FILLERS:
            found[_VOCAL_FILLERS[token]] += 1
        elif token == "like" and previous not in _LIKE_NOT_FILLER_BEFORE and following not in _LIKE_NOT_FILLER_AFTER:
            found["like"] += 1
        bigram = f"{token} {following}"
        if bigram in _LEXICAL_FILLERS:
            if bigram in ("kind of", "sort of") and previous in _KIND_SORT_NOT_FILLER_BEFORE:
                continue
            if bigram == "you know" and (i + 2 < len(tokens) and tokens[i + 2] in {"what", "how", "that", "the", "him", "her"}):
                continue
            found[bigram] += 1
    return found


def count_phrases(text_lower: str, phrases: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for phrase in phrases:
        n = len(re.findall(rf"(?<![a-z']){re.escape(phrase)}(?![a-z'])", text_lower))
        if n:
            counts[phrase] = n
    return counts


def analyse(text: str) -> TextAnalysis:
    tokens = words(text)
    lower = " ".join(tokens)
    return TextAnalysis(
        word_count=len(tokens),
        fillers=dict(count_fillers(tokens)),
        hedges=count_phrases(lower, HEDGES),
        star_parts=frozenset(part for part, cue in STAR_CUES.items() if cue.search(lower)),
        has_numbers=bool(re.search(r"\d", text)),
    )
