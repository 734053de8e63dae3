"""Chooses the LLM engine from settings: none without an API key."""

from __future__ import annotations

from app.inference.llm.base import LlmEngine
from app.settings import Settings


def build_llm_engine(settings: Settings) -> LlmEngine | None:
    """The configured chat-completions client, or None (heuristics only) when no key is set.

    Local OpenAI-compatible servers that need no key accept any value, e.g. LLM__API_KEY=local.
    """
    llm = settings.llm
    key = llm.api_key.get_secret_value().strip() if llm.api_key else ""
    if not key:
        return None
    from app.inference.llm.openai_compatible import OpenAICompatibleChatClient  # httpx client only when used

    return OpenAICompatibleChatClient(url=llm.url, api_key=key, model=llm.model, timeout_s=llm.timeout_s, settings=llm)
