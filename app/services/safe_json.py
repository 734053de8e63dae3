"""Values made safe for strict JSON in UTF-8, for everything the service writes out (exports, replays).

The edge refuses lone surrogates and non-finite numbers, but rows stored before it did (or
written by other tools) must not break an export: strings are repaired (a lone surrogate
becomes U+FFFD), NaN and +-Infinity become null.
"""

from __future__ import annotations

import json
import math
from typing import Any


def clean_text(value: str) -> str:
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        # UTF-16 joins a high + low pair into its character and replaces each lone half with U+FFFD
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def json_safe(value: Any) -> Any:
    """A copy of `value` with every string valid Unicode and every float finite (None otherwise)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(k)) if not isinstance(k, str) else clean_text(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def dumps_line(value: Any) -> str:
    """Strict JSON (no NaN tokens), UTF-8 encodable, on one line."""
    return json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
