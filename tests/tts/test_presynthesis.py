"""The style cards' fixed texts are cached like the question bank, and can be synthesised after start-up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.inference.tts.piper_engine import PiperTts
from app.main import create_app
from app.services.content import load_content
from app.services.voice import VoiceService, style_texts
from app.settings import Settings
from tests.wsclient import start


def test_presynthesis_fills_the_cache_with_cacheable_texts_only(piper: PiperTts) -> None:
    texts = sorted(style_texts(load_content().styles.values()))[:3]
    voice = VoiceService(piper, frozenset(texts), cache_entries=8)

    async def run() -> list[str]:
        await voice.presynthesise([*texts, "A coach message is not kept."])
        return [chunk.text async for _, _, chunk in voice.stream(texts[0])]

    spoken = asyncio.run(run())
    assert voice.presynthesised == 3 and voice.health()["cached"] == 3 and voice.presynthesis_s is not None
    assert (voice.hits, voice.misses) == (1, 0) and " ".join(spoken) == texts[0]


def test_start_up_does_not_wait_for_presynthesis_and_acknowledgements_come_from_the_cache(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db", NVIDIA_API_KEY=None,  # type: ignore[call-arg]
                        tts={"presynthesise": True}, head_pose={"enabled": False})
    total = len(style_texts(load_content().styles.values()))
    with TestClient(create_app(settings)) as client:
        cache = client.get("/health").json()["engines"]["tts"]["cache"]
        assert cache["presynthesis_s"] is None and cache["presynthesised"] < total  # still running: not waited for
        deadline = time.monotonic() + 120
        while (cache := client.get("/health").json()["engines"]["tts"]["cache"])["presynthesis_s"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert cache["presynthesised"] == total and cache["cached"] >= total
        with client.websocket_connect("/ws/interview") as ws:
            start(ws, tts=True, question_count=2)
            ws.send_json({"type": "user_answer", "id": "a1", "answer": "We shipped two days early."})
            while (message := ws.receive_json())["type"] != "interviewer_message":
                pass
            assert message["text"] in style_texts(load_content().styles.values())
            while not ((chunk := ws.receive_json())["type"] == "speech_audio" and chunk["reply_to_seq"] == message["seq"]):
                pass
        after = client.get("/health").json()["engines"]["tts"]["cache"]
        assert after["hits"] == 1  # the acknowledgement; the question was synthesised (and cached) on first use
