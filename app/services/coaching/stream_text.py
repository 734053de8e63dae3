"""Pull one JSON string field's text out of a reply that is still being generated.

The model streams a JSON object; the candidate should see the interviewer message as it
forms, not the JSON around it. This decoder finds `"<field>": "` and yields the string's
decoded characters (escapes included, even when split across chunks) until its closing quote.
"""

from __future__ import annotations

import re

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonFieldStream:
    """Feed it chunks of a JSON object; it returns the new text of one top-level string field."""

    def __init__(self, field: str) -> None:
        self._start = re.compile(r'"' + re.escape(field) + r'"\s*:\s*"')
        self._buffer = ""
        self._inside = False
        self._high = ""  # a \uD8xx waiting for its low surrogate
        self.done = False

    def feed(self, chunk: str) -> str:
        if self.done:
            return ""
        self._buffer += chunk
        if not self._inside:
            match = self._start.search(self._buffer)
            if match is None:
                return ""
            self._inside = True
            self._buffer = self._buffer[match.end():]
        out: list[str] = []
        i = 0
        text = self._buffer
        while i < len(text):
            ch = text[i]
            if ch == '"':
                self.done = True
                i = len(text)
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(text):
                break  # the escape continues in the next chunk
            code = text[i + 1]
            if code == "u":
                if i + 6 > len(text):
                    break
                try:
                    out.append(chr(int(text[i + 2:i + 6], 16)))
                except ValueError:
                    pass
                i += 6
            else:
                out.append(_ESCAPES.get(code, code))
                i += 2
        self._buffer = text[i:]
        decoded = self._high + "".join(out)
        self._high = ""
        if decoded and "\ud800" <= decoded[-1] <= "\udbff" and not self.done:
            decoded, self._high = decoded[:-1], decoded[-1]
        # Join surrogate pairs from \u escapes; a lone surrogate becomes U+FFFD.
        return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
