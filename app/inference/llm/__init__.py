"""Chat-completion language models: a small protocol and an OpenAI-compatible HTTP client."""
