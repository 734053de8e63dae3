"""Merging what the server measured with what the client sent. Server values win; both are kept."""

from __future__ import annotations

import json
from typing import Any

from app.errors import InvalidInput
from app.services.text_analysis import TextAnalysis

# effective name -> client field that may stand in when the server did not measure it
CLIENT_FALLBACKS = {
    "speaking_rate_wpm": "speakingRate",
    "pause_ratio": "pauseRatio",
    "gaze": "gaze",
    "fillers_per_min": "fillersPerMin",
    "duration_s": "durationSec",
    "response_latency_ms": "latencyMs",
}


def merge_metrics(
    analysis: TextAnalysis, measured: dict[str, Any], client: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (effective metrics, everything the server measured).

    A metric nobody measured is None, never a guess.
    """
    server: dict[str, Any] = {
        "word_count": analysis.word_count,
        "filler_count": analysis.filler_count,
        "fillers": analysis.fillers,
        "fillers_per_100_words": round(100 * analysis.filler_count / analysis.word_count, 2) if analysis.word_count else None,
        "hedge_count": analysis.hedge_count,
        "hedges": analysis.hedges,
        "star_parts": sorted(analysis.star_parts),
    }
    server.update({k: v for k, v in measured.items() if v is not None})
    effective: dict[str, Any] = dict(server)
    sources: dict[str, str] = {}
    for name, client_name in CLIENT_FALLBACKS.items():
        if server.get(name) is not None:
            sources[name] = "server"
        elif client and client.get(client_name) is not None:
            effective[name] = client[client_name]
            sources[name] = "client"
        else:
            effective[name] = None
    effective["sources"] = sources
    return effective, server


def check_client_metrics(client: dict[str, Any] | None, max_keys: int, max_value_bytes: int) -> None:
    """Client metrics are kept as sent, so each is bounded: the count of keys, each name and each value."""
    if not client:
        return
    if len(client) > max_keys:
        raise InvalidInput(f"at most {max_keys} client metrics per answer", code="too_many_metrics")
    for name, value in client.items():
        if len(name) > 64:
            raise InvalidInput("client metric names are at most 64 characters", code="metric_too_large")
        if len(json.dumps(value, ensure_ascii=False).encode()) > max_value_bytes:
            raise InvalidInput(f"client metric {name[:64]!r} is over {max_value_bytes} bytes of JSON",
                               code="metric_too_large")
