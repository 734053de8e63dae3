"""The tidy answers table: one row per answer, its columns and what each of them means.

The column list below is the single source of both the CSV header and `codebook.json`, so the
two cannot drift apart. Names are stable: analysts' scripts depend on them.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db.repositories.latency import STAGES
from app.services.metrics import CLIENT_FALLBACKS
from app.services.safe_json import clean_text, json_safe


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | integer | number | boolean | datetime
    description: str
    unit: str | None = None
    valid: list[Any] | None = None  # [min, max] for numbers (None = open end), allowed values for strings
    measured: str | None = None  # how the value was obtained


_SERVER = "server (speech engine on the uploaded audio)"
_TEXT = "server (text analysis of the transcript or typed answer)"
_CAMERA = "server (webcam head pose, MediaPipe Face Mesh)"
_LATENCY = ("server monotonic clock; end of speech = arrival of the audio frame where the voice-activity detector "
            "heard speech end (can be negative for manual turns ended before the speech did)")
_EFFECTIVE = "effective value: the server's measurement when available, else the client's (see <name>_source)"

COLUMNS: tuple[Column, ...] = (
    Column("participant_id", "string", "pseudonymous participant id given at start_session (no names or e-mails)"),
    Column("session_id", "string", "session id (hex)"),
    Column("group", "string", "study arm of the session", valid=["control", "treatment"]),
    Column("assignment", "string", "how the group was set: by the client or by server block randomisation",
           valid=["client", "block_randomised"]),
    Column("session_status", "string", "session status at export time", valid=["active", "completed", "ended"]),
    Column("session_started_at", "datetime", "when the session was created (UTC, ISO 8601)"),
    Column("initial_style", "string", "interviewer style chosen at the start"),
    Column("style", "string", "interviewer style in effect when this answer was recorded"),
    Column("answer_id", "integer", "answer id (increasing in time)"),
    Column("question_index", "integer", "0-based position of the question in the session, follow-ups included",
           valid=[0, None]),
    Column("question_id", "string", "question bank id; follow-ups end in '~fu'"),
    Column("question_category", "string", "question category",
           valid=["behavioural", "situational", "motivational", "technical"]),
    Column("follow_up", "boolean", "the question was a follow-up to the previous answer"),
    Column("input_mode", "string", "how the answer arrived", valid=["voice", "text"]),
    Column("question_asked_at", "datetime", "when the question was sent (UTC)"),
    Column("answered_at", "datetime", "when the answer was stored (UTC)"),
    Column("answer_elapsed_ms", "number", "question sent → answer received by the server", "ms", [0, None], "server clock"),
    Column("word_count", "integer", "words in the answer", "words", [0, None], _TEXT),
    Column("duration_s", "number", f"length of the spoken answer; {_EFFECTIVE}", "s", [0, 3600]),
    Column("speaking_rate_wpm", "number", f"words per minute over the speech span; {_EFFECTIVE}", "words/min", [0, 600]),
    Column("pause_ratio", "number", f"silent share of the speech span; {_EFFECTIVE}", "ratio", [0, 1]),
    Column("gaze", "number", f"share of time looking at the camera; {_EFFECTIVE}", "ratio", [0, 1]),
    Column("filler_count", "integer", "filler words (um, uh, like, you know, …)", "count", [0, None], _TEXT),
    Column("fillers_per_min", "number", f"fillers per minute of speech; {_EFFECTIVE}", "1/min", [0, 600]),
    Column("hedge_count", "integer", "hedging phrases (I think, maybe, probably, …)", "count", [0, None], _TEXT),
    Column("response_latency_ms", "number", f"question shown → answer started (client clock); {_EFFECTIVE}", "ms",
           [0, 3_600_000]),
    *(Column(f"{name}_source", "string", f"who measured {name}; empty = nobody", valid=["server", "client"])
      for name in CLIENT_FALLBACKS),
    Column("fillers_per_100_words", "number", "fillers per 100 words", "1/100 words", [0, None], _TEXT),
    Column("star_situation", "boolean", "the answer names a situation (STAR cue phrases)", measured=_TEXT),
    Column("star_task", "boolean", "the answer names a task (STAR cue phrases)", measured=_TEXT),
    Column("star_action", "boolean", "the answer names an action (STAR cue phrases)", measured=_TEXT),
    Column("star_result", "boolean", "the answer names a result (STAR cue phrases)", measured=_TEXT),
    Column("asr_confidence", "number", "mean Whisper word probability", "probability", [0, 1], _SERVER),
    Column("speaking_time_s", "number", "voiced time", "s", [0, None], _SERVER),
    Column("articulation_rate", "number", "syllables per second of voiced time", "syllables/s", [0, None], _SERVER),
    Column("pause_count", "integer", "pauses of at least SPEECH__MIN_PAUSE_S", "count", [0, None], _SERVER),
    Column("long_pause_count", "integer", "pauses longer than SPEECH__LONG_PAUSE_S", "count", [0, None], _SERVER),
    Column("mean_pause_s", "number", "mean pause length", "s", [0, None], _SERVER),
    Column("fillers_acoustic_only", "integer", "filled pauses found acoustically that Whisper dropped", "count",
           [0, None], _SERVER),
    Column("pitch_median_hz", "number", "median F0 (Praat)", "Hz", [0, None], _SERVER),
    Column("pitch_variability_st", "number", "F0 standard deviation", "semitones", [0, None], _SERVER),
    Column("monotone", "boolean", "pitch variability below SPEECH__MONOTONE_ST", measured=_SERVER),
    Column("loudness_db", "number", "mean level of voiced frames", "dBFS", [None, 0], _SERVER),
    Column("loudness_variability_db", "number", "level standard deviation", "dB", [0, None], _SERVER),
    Column("clarity_score", "number", "100 × (0.7 × asr_confidence + 0.3 × level)", "score", [0, 100], _SERVER),
    Column("fluency_score", "number", "100 − penalties for fillers, pauses, long pauses and pace", "score", [0, 100],
           _SERVER),
    Column("face_visible_ratio", "number", "share of the answer with a face in view", "ratio", [0, 1], _CAMERA),
    Column("head_movement_deg", "number", "spread of head yaw/pitch", "degrees", [0, None], _CAMERA),
    Column("camera_frames", "integer", "webcam frames analysed during the answer", "count", [0, None], _CAMERA),
    Column("camera_seconds", "number", "time covered by those frames", "s", [0, None], _CAMERA),
    Column("client_speaking_rate_wpm", "number", "client's own speakingRate, as sent", "words/min", [0, 600], "client"),
    Column("client_pause_ratio", "number", "client's own pauseRatio, as sent", "ratio", [0, 1], "client"),
    Column("client_gaze", "number", "client's own gaze, as sent", "ratio", [0, 1], "client"),
    Column("client_fillers", "integer", "client's own fillers count, as sent", "count", [0, 10_000], "client"),
    Column("client_fillers_per_min", "number", "client's own fillersPerMin, as sent", "1/min", [0, 600], "client"),
    Column("client_duration_s", "number", "client's own durationSec, as sent", "s", [0, 3600], "client"),
    Column("client_latency_ms", "number", "client's own latencyMs, as sent", "ms", [0, 3_600_000], "client"),
    Column("checkin_confidence", "integer", "confidence of the check-in nearest in time to the answer (same session)",
           "Likert 1–7", [1, 7], "participant self-report"),
    Column("checkin_stress", "integer", "stress of that check-in", "Likert 1–7", [1, 7], "participant self-report"),
    Column("checkin_at", "datetime", "when that check-in was recorded (UTC)"),
    Column("checkin_offset_s", "number", "check-in time − answer time (negative = before the answer)", "s"),
    Column("turn_detection", "string", "streamed spoken answers: who ended the turn (auto = the server's end-of-turn "
           "detection, manual = the client's audio_end); empty for typed answers and uploaded clips", valid=["auto", "manual"]),
    Column("turn_reason", "string", "what ended the turn: the end-of-turn model at a pause, the long-silence rule, "
           "or the client's audio_end", valid=["smart_turn", "silence", "audio_end"]),
    Column("turn_probability", "number", "the end-of-turn model's last probability that the turn was complete",
           "probability", [0, 1], _LATENCY),
    Column("latency_turn_ms", "number", "end of speech → turn detected (auto) or audio_end received (manual)", "ms",
           [None, None], _LATENCY),
    Column("latency_cue_ms", "number", "end of speech → the spoken cue that took the turn sent (auto mode with tts "
           "and TURNS__CUE; empty otherwise)", "ms", [None, None], _LATENCY),
    Column("latency_transcript_ms", "number", "end of speech → transcript_final sent", "ms", [None, None], _LATENCY),
    Column("latency_coach_ms", "number", "end of speech → the coach had replied", "ms", [None, None], _LATENCY),
    Column("latency_question_ms", "number", "end of speech → next question (or session_complete) sent", "ms",
           [None, None], _LATENCY),
    Column("latency_first_audio_ms", "number", "end of speech → first speech_audio of the interviewer's reply sent "
           "(sessions with tts)", "ms", [None, None], _LATENCY),
    Column("coach_source", "string", "who wrote the interviewer's reply and tips", valid=["heuristic", "llm"]),
    Column("llm_model", "string", "LLM tried for this turn; empty when none was"),
    Column("llm_latency_ms", "number", "LLM call time (answered or not)", "ms", [0, None], "server clock"),
    Column("llm_attempts", "integer", "HTTP attempts of the LLM call that answered", "count", [1, None]),
    Column("coach_fallback_reason", "string", "why heuristics answered although an LLM was tried"),
    Column("tips_shown", "boolean", "tips were sent to the participant (treatment group)"),
    Column("tip_count", "integer", "tips generated for this answer (also in control, where they are not shown)",
           "count", [0, 3]),
    Column("tip_kinds", "string", "kinds of those tips, ';'-separated"),
    Column("session_mode", "string", "study (researcher's link or API) or practice (someone opening / alone)",
           valid=["study", "practice"]),
    *(Column(f"score_{name}", "integer", f"rubric score: {what} (app/data/rubric.json; empty = not scored)",
             "rubric level", [1, 5], "see assessment_source") for name, what in (
        ("structure", "the shape the question calls for (STAR, a plan, …)"),
        ("specificity", "concrete actions, numbers, named tools, outcomes"),
        ("relevance", "addresses the question asked"),
        ("ownership", "the candidate's own part ('I' vs 'we'), no hedging"),
        ("conciseness", "length right for the question category, no padding"),
        ("delivery", "pace, fillers, pauses, eye contact, intonation; empty when none was measured"))),
    Column("score_overall", "number", "weighted mean of the scored dimensions (rubric weights)", "rubric level",
           [1, 5], "see assessment_source"),
    Column("assessment_source", "string", "who scored the answer: the LLM on the rubric, or the heuristic rules",
           valid=["heuristic", "llm"]),
    Column("assessment_shown", "boolean", "the scores were sent to the participant during the interview"),
    Column("rubric_version", "integer", "version of app/data/rubric.json used", valid=[1, None]),
)

COLUMN_NAMES = tuple(c.name for c in COLUMNS)

_SERVER_KEYS = (
    "fillers_per_100_words", "asr_confidence", "speaking_time_s", "articulation_rate", "pause_count",
    "long_pause_count", "mean_pause_s", "fillers_acoustic_only", "pitch_median_hz", "pitch_variability_st",
    "monotone", "loudness_db", "loudness_variability_db", "clarity_score", "fluency_score", "face_visible_ratio",
    "head_movement_deg", "camera_frames", "camera_seconds", "answer_elapsed_ms",
)
_CLIENT_KEYS = {
    "client_speaking_rate_wpm": "speakingRate", "client_pause_ratio": "pauseRatio", "client_gaze": "gaze",
    "client_fillers": "fillers", "client_fillers_per_min": "fillersPerMin", "client_duration_s": "durationSec",
    "client_latency_ms": "latencyMs",
}
_ASSESSMENT_KEYS = ("score_structure", "score_specificity", "score_relevance", "score_ownership", "score_conciseness",
                   "score_delivery", "score_overall", "assessment_source", "assessment_shown", "rubric_version")
TYPED = ("word_count", "duration_s", "speaking_rate_wpm", "pause_ratio", "gaze", "filler_count", "fillers_per_min",
         "hedge_count", "response_latency_ms")


@dataclass(frozen=True)
class CheckInPoint:
    at: datetime
    confidence: int
    stress: int


def nearest(points: list[CheckInPoint], at: datetime) -> CheckInPoint | None:
    """The check-in nearest in time to `at` (points sorted by time; ties go to the earlier one)."""
    if not points:
        return None
    i = bisect.bisect_left([p.at for p in points], at)
    candidates = [p for p in (points[i - 1] if i > 0 else None, points[i] if i < len(points) else None) if p]
    return min(candidates, key=lambda p: (abs((p.at - at).total_seconds()), p.at))


def answer_row(r: dict[str, Any], checkin: CheckInPoint | None) -> dict[str, Any]:
    """One CSV row from an answer joined with its session and question (`r`), and the nearest check-in."""
    server: dict[str, Any] = r["server_metrics"] or {}
    client: dict[str, Any] = r["client_metrics"] or {}
    coach: dict[str, Any] = server.get("coach") or {}
    star = set(server.get("star_parts") or ())
    tips: list[dict[str, Any]] = r["tips"] or []
    row: dict[str, Any] = {
        "participant_id": r["participant_id"], "session_id": r["session_id"], "group": r["group"],
        "assignment": r["assignment"], "session_status": r["status"], "session_started_at": r["session_created_at"],
        "initial_style": r["initial_style"], "style": r["style"], "answer_id": r["id"],
        "question_index": r["question_index"], "question_id": r["question_id"], "question_category": r["category"],
        "follow_up": r["is_follow_up"], "input_mode": r["input_mode"], "question_asked_at": r["asked_at"],
        "answered_at": r["created_at"],
        **{name: r[name] for name in TYPED},
        **{f"{name}_source": ("server" if server.get(name) is not None
                              else "client" if client.get(cname) is not None else None)
           for name, cname in CLIENT_FALLBACKS.items()},
        **{f"star_{part}": part in star for part in ("situation", "task", "action", "result")},
        **{key: server.get(key) for key in _SERVER_KEYS},
        **{col: client.get(key) for col, key in _CLIENT_KEYS.items()},
        "checkin_confidence": checkin.confidence if checkin else None,
        "checkin_stress": checkin.stress if checkin else None,
        "checkin_at": checkin.at if checkin else None,
        "checkin_offset_s": round((checkin.at - r["created_at"]).total_seconds(), 3) if checkin else None,
        "turn_detection": r.get("turn_detection"), "turn_reason": r.get("turn_reason"),
        "turn_probability": r.get("turn_probability"),
        **{f"latency_{stage}": r.get(stage) for stage in STAGES},
        "coach_source": r["coach_source"], "llm_model": r["llm_model"], "llm_latency_ms": r["llm_latency_ms"],
        "llm_attempts": coach.get("llm_attempts"), "coach_fallback_reason": coach.get("fallback_reason"),
        "tips_shown": r["tips_shown"], "tip_count": len(tips),
        "tip_kinds": ";".join(str(t.get("kind")) for t in tips) or None,
        "session_mode": r.get("session_mode"),
        **{key: r.get(key) for key in _ASSESSMENT_KEYS},
    }
    return row


# OWASP "CSV injection": a spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_RULE = ("text cells that begin with =, +, -, @, tab or carriage return are written with a leading ' "
                 "(OWASP CSV injection defence: spreadsheets show them as text instead of running a formula); "
                 "remove that one ' to get the stored value. Numbers are never prefixed.")


def csv_value(value: Any) -> Any:
    """Empty for missing (NA in R and pandas), true/false for booleans, ISO 8601 for times;
    text neutralised against formula injection; non-finite numbers are missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False)
    if isinstance(value, str):
        value = clean_text(value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value
