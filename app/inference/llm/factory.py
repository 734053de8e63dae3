"""Chooses the LLM engine from settings: none without an API key."""

from __future__ import annotations

from app.inference.llm.base import LlmEngine
from app.settings import Settings


def build_llm_engine(settings: Settings) -> LlmEngine | None:
    """The configured chat-completions client, or None (heuristics only) when no key is set.

    Local OpenAI-compatible servers that need no key accept any value, e.g. NVIDIA_API_KEY=local.
    """
    key = settings.nvidia_api_key.get_secret_value().strip() if settings.nvidia_api_key else ""
    if not key:
        return None
    from app.inference.llm.nvidia import NvidiaChatClient  # httpx client only when used

    return NvidiaChatClient(
        url=settings.nvidia_llm_url, api_key=key, model=settings.nvidia_llm_model,
        timeout_s=settings.nvidia_llm_timeout, settings=settings.llm,
    )
