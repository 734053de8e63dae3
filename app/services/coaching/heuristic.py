"""The heuristic coach: rules over the measured metrics and the words, framed by the style card."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from app.services.coaching.base import CoachReply, CoachTip, TurnContext

PACE_RANGE_WPM = (120.0, 160.0)
MAX_FILLERS_PER_MIN = 3.0
MAX_PAUSE_RATIO = 0.4
MIN_GAZE = 0.6
SHORT_ANSWER_WORDS = 40
LONG_ANSWER_WORDS = 350
MAX_HEDGES = 3
MAX_TIPS = 3
STAR_CATEGORIES = {"behavioural"}


def _rng(context: TurnContext) -> random.Random:
    digest = hashlib.sha256(f"{context.session_id}:{context.turn_index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"'{k}' ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def heuristic_tips(context: TurnContext) -> list[CoachTip]:
    """Tips in priority order. A metric that was not measured (None) never produces a tip."""
    m = context.metrics
    a = context.analysis
    tips: list[CoachTip] = []
    wpm = m.get("speaking_rate_wpm")
    if wpm is not None and wpm < PACE_RANGE_WPM[0]:
        tips.append(CoachTip("pace_slow", "Your pace was slow; aim for about 120–160 words per minute.", f"{wpm:.0f} words/min"))
    elif wpm is not None and wpm > PACE_RANGE_WPM[1]:
        tips.append(CoachTip("pace_fast", "You spoke quickly; slow down a little and let key points land.", f"{wpm:.0f} words/min"))
    fpm = m.get("fillers_per_min")
    if fpm is not None and fpm > MAX_FILLERS_PER_MIN:
        evidence = f"{fpm:.1f} fillers/min"
        if a.fillers:
            evidence += f" ({_format_counts(a.fillers)})"
        tips.append(CoachTip("fillers", "Replace filler words with a short silent pause.", evidence))
    pause_ratio = m.get("pause_ratio")
    long_pauses = m.get("long_pause_count")
    if pause_ratio is not None and pause_ratio > MAX_PAUSE_RATIO:
        tips.append(CoachTip("pauses", "Long silences broke up your answer; outline your points before you start.",
                             f"pause ratio {pause_ratio:.0%}"))
    elif long_pauses:
        tips.append(CoachTip("pauses", "A few long pauses stood out; a brief 'let me think' keeps the flow.",
                             f"{long_pauses} pauses over 2 s"))
    gaze = m.get("gaze")
    if gaze is not None and gaze < MIN_GAZE:
        tips.append(CoachTip("eye_contact", "Look at the camera more often; it reads as eye contact.", f"gaze {gaze:.0%} of the time"))
    if context.question.category in STAR_CATEGORIES and a.word_count >= 15:
        missing = [p for p in ("situation", "action", "result") if p not in a.star_parts]
        if missing:
            tips.append(CoachTip("structure", "Structure the story as Situation, Task, Action, Result.",
                                 "no " + ", no ".join(missing) + " stated"))
    if a.word_count < SHORT_ANSWER_WORDS:
        tips.append(CoachTip("too_short", "Give a fuller answer with a concrete example.", f"{a.word_count} words"))
    elif a.word_count > LONG_ANSWER_WORDS:
        tips.append(CoachTip("too_long", "Tighten the answer; two minutes is plenty.", f"{a.word_count} words"))
    if a.hedge_count >= MAX_HEDGES:
        tips.append(CoachTip("hedging", "Say what you did with confidence; drop the hedging words.", _format_counts(a.hedges)))
    return tips[:MAX_TIPS]


def follow_up_roll(context: TurnContext) -> bool:
    """Whether this turn may follow up at all: the style card's rate, drawn reproducibly per turn."""
    if not context.may_follow_up or context.question.is_follow_up:
        return False
    return _rng(context).random() < context.style.follow_up_rate


# What a follow-up may ask for, most useful first; "short" (a generic "tell me more") only when nothing
# more specific is missing.
FOLLOW_UP_PRIORITY = ("on_topic", "result", "own_part", "action", "plan", "number", "situation", "check", "reason",
                      "tech_example", "example", "short")


def missing_piece(context: TurnContext) -> str | None:
    """What this answer lacks that a follow-up should ask for (None: nothing worth asking)."""
    a = context.analysis
    if context.assessment is not None:
        missing = set(context.assessment.missing)
        return next((k for k in FOLLOW_UP_PRIORITY if k in missing and k in context.style.follow_ups), None)
    # Without an assessment (older callers): the original rules.
    if a.word_count < 25:
        return "short"
    if context.question.category in STAR_CATEGORIES and "result" not in a.star_parts:
        return "result"
    if context.question.category in STAR_CATEGORIES and "action" not in a.star_parts:
        return "action"
    if not a.has_numbers and "action" not in a.star_parts and context.question.category != "motivational":
        return "vague"
    return None


def choose_follow_up(context: TurnContext) -> str | None:
    """A follow-up naming what this answer lacks, as often as the style card says."""
    if not context.may_follow_up or context.question.is_follow_up:
        return None
    reason = missing_piece(context)
    if reason is None or not follow_up_roll(context):
        return None
    return context.style.follow_ups[reason].replace("{question}", context.question.text)


def answer_fit(context: TurnContext) -> str | None:
    """strong | partial | brief, from this answer's rubric scores (None without an assessment)."""
    a = context.assessment
    if a is None:
        return None
    if "short" in a.missing or context.analysis.word_count < 25:
        return "brief"
    if a.overall is not None and a.overall >= 4.0 and not {"on_topic", "result", "action"} & set(a.missing):
        return "strong"
    return "partial"


def choose_acknowledgement(context: TurnContext) -> str:
    """An acknowledgement that fits the answer, never the same one on two turns in a row of a session."""
    fit = answer_fit(context)
    options = context.style.acknowledgements_by_fit.get(fit or "", ()) or context.style.acknowledgements
    digest = hashlib.sha256(context.session_id.encode()).digest()
    # Consecutive turns step through the list from a per-session start: variety without repeats.
    return options[(int.from_bytes(digest[:4], "big") + context.turn_index) % len(options)]


def acknowledgement(context: TurnContext) -> str:
    """The heuristic reply's interviewer message: the same text whenever it is asked for the same turn,
    so the one spoken before the LLM answers is the one the heuristic fallback would send."""
    return choose_acknowledgement(context) if context.assessment is not None else _rng(context).choice(
        context.style.acknowledgements)


class HeuristicCoach:
    """Coach that needs no model: deterministic per session and turn, so runs are reproducible."""

    name = "heuristic"
    uses_history = False

    async def reply(self, context: TurnContext) -> CoachReply:
        return self.reply_now(context)

    def reply_now(self, context: TurnContext) -> CoachReply:
        said = acknowledgement(context)
        follow_up = choose_follow_up(context)
        tips: tuple[CoachTip, ...] = ()
        if context.wants_tips:
            prefix = context.style.tip_prefix
            tips = tuple(CoachTip(t.kind, prefix + t.text[0].lower() + t.text[1:] if prefix else t.text, t.evidence)
                         for t in heuristic_tips(context))
        return CoachReply(interviewer_message=said, follow_up=follow_up, tips=tips, source="heuristic")

    async def warm(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        """Nothing to release."""

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "backend": "heuristic"}
