"""A seeded study written straight into the database (sync ORM), for export, statistics and dashboard tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.orm import Session

from app.db.models import Answer, AskedQuestion, CheckIn, InterviewSession, TelemetryEvent, TurnLatency
from tests.conftest import sync_url

START = datetime(2026, 3, 1, tzinfo=UTC)
STYLES = ("supportive", "neutral", "challenging")


def seed_study(url: str, n_sessions: int = 30, seed: int = 11, start: datetime = START) -> list[str]:
    """Sessions over several days with 1-4 answers, check-ins between answers, a style switch in some."""
    rng = random.Random(seed)
    engine = create_sync_engine(sync_url(url))
    ids: list[str] = []
    with Session(engine) as db, db.begin():
        for i in range(n_sessions):
            group = "treatment" if i % 2 else "control"
            created = start + timedelta(hours=7 * i)
            sid = f"seed{seed:02d}{i:05d}"
            ids.append(sid)
            style = STYLES[i % 3]
            status = ("completed", "ended", "active")[i % 3] if i % 5 else "completed"
            db.add(InterviewSession(
                id=sid, resume_token_hash="x" * 64, participant_id=f"P{i:03d}", group=group, style=style,
                initial_style=style, question_plan=[], question_count=4, plan_position=0, follow_up_pending=False,
                status=status, tts=False, next_seq=1, created_at=created, updated_at=created,
            ))
            db.flush()
            for k in range(rng.randint(1, 4)):
                at = created + timedelta(minutes=2 * k + 1)
                answer_style = "challenging" if (i % 4 == 0 and k >= 2) else style
                q = AskedQuestion(session_id=sid, index=k, plan_position=k, question_id=f"beh-0{k}", text="q",
                                  category="behavioural", is_follow_up=k == 3, style=answer_style, seq=k,
                                  asked_at=at - timedelta(seconds=40))
                db.add(q)
                db.flush()
                voice = rng.random() < 0.5
                rate = rng.gauss(150 if group == "treatment" else 135, 15)
                pause = round(rng.uniform(0.1, 0.4), 3) if voice else None
                server = {"word_count": 60, "star_parts": ["action", "result"], "answer_elapsed_ms": 40000.0}
                if voice:
                    server |= {"speaking_rate_wpm": rate, "pause_ratio": pause, "asr_confidence": 0.9, "pitch_median_hz": 120.0}
                client = None if voice else {"speakingRate": rate, "latencyMs": rng.uniform(500, 3000)}
                answer = Answer(
                    session_id=sid, asked_question_id=q.id, input_mode="voice" if voice else "text", text="a",
                    style=answer_style, word_count=60, speaking_rate_wpm=rate, pause_ratio=pause,
                    gaze=min(1.0, max(0.0, rng.gauss(0.7, 0.1))), filler_count=rng.randint(0, 5),
                    fillers_per_min=rng.uniform(0, 6),
                    response_latency_ms=None if voice else client["latencyMs"],  # type: ignore[index]
                    server_metrics=server, client_metrics=client, tips=[{"kind": "pace_fast", "text": "t", "evidence": "e"}],
                    tips_shown=group == "treatment", coach_source="heuristic", interviewer_message="ok", created_at=at,
                )
                db.add(answer)
                if voice:  # stage times of a streamed spoken answer (ms after the end of speech)
                    db.flush()
                    auto = rng.random() < 0.5
                    turn = rng.uniform(250, 3000) if auto else rng.uniform(-500, 1500)
                    db.add(TurnLatency(answer_id=answer.id, session_id=sid, turn_detection="auto" if auto else "manual",
                                       turn_reason="smart_turn" if auto else "audio_end", turn_ms=turn,
                                       transcript_ms=turn + 200, coach_ms=turn + 260, question_ms=turn + 300,
                                       first_audio_ms=turn + 550, created_at=at))
                if k % 2 == 0:
                    db.add(CheckIn(session_id=sid, confidence=rng.randint(1, 7), stress=rng.randint(1, 7),
                                   style=answer_style, question_index=k, created_at=at + timedelta(seconds=30)))
            db.add(TelemetryEvent(session_id=sid, event="question_text_latency", style=style, latency_ms=rng.uniform(200, 900),
                                  created_at=created))
    engine.dispose()
    return ids
