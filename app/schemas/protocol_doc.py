"""Render the published WebSocket JSON Schema (`GET /ws/interview/schema`) as Markdown tables.

`docs/protocol.md` holds the output between two markers; `tests/test_docs.py` renders the schema
the running app publishes and fails when the page differs, so the page cannot drift from the code.

    python -m app.schemas.protocol_doc            # print the reference
    python -m app.schemas.protocol_doc --write    # rewrite the block in docs/protocol.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN GENERATED: message reference (python -m app.schemas.protocol_doc --write) -->"
END = "<!-- END GENERATED: message reference -->"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

# Fields every message of a side carries; described once above the tables.
COMMON = {"client": ("id",), "server": ("session_id", "seq", "reply_to")}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "const" in prop:
        return json.dumps(prop["const"])
    if "enum" in prop:
        return " or ".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop:
        parts = [_type(p) for p in prop["anyOf"]]
        return " or ".join(parts)
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object":
        extra = prop.get("additionalProperties")
        return f"object of {_type(extra)}" if isinstance(extra, dict) and extra else "object"
    return str(kind) if kind else "any"


def _constraints(prop: dict[str, Any]) -> str:
    found: list[str] = []
    for variant in [prop, *prop.get("anyOf", [])]:
        for key, label in (("minLength", "min length"), ("maxLength", "max length"), ("minimum", "≥"),
                           ("maximum", "≤"), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"),
                           ("maxItems", "max items"), ("pattern", "pattern")):
            if key in variant:
                value = f"`{variant[key]}`" if key == "pattern" else str(variant[key])
                found.append(f"{label} {value}")
    if "default" in prop and prop["default"] is not None and "const" not in prop:
        found.append(f"default {json.dumps(prop['default'])}")
    return ", ".join(found)


def _table(definition: dict[str, Any], skip: tuple[str, ...]) -> list[str]:
    required = set(definition.get("required", []))
    rows = ["| field | type | required | constraints | description |", "|---|---|---|---|---|"]
    for name, prop in definition.get("properties", {}).items():
        if name in skip or name == "type":
            continue
        rows.append(
            f"| `{name}` | {_cell(_type(prop))} | {'yes' if name in required else ''} | "
            f"{_cell(_constraints(prop))} | {_cell(prop.get('description', ''))} |"
        )
    if len(rows) == 2:
        rows.append("| — | | | | no fields besides `type` |")
    if definition.get("additionalProperties") is False:
        rows.append("")
        rows.append("Other fields are refused (`invalid_message`).")
    return rows


def render(schema: dict[str, Any]) -> str:
    """The Markdown reference for a schema as published by `GET /ws/interview/schema`."""
    out: list[str] = []
    titles = {"client": "Client → server", "server": "Server → client"}
    for side in ("client", "server"):
        side_schema = schema[side]
        defs = side_schema["$defs"]
        mapping: dict[str, str] = side_schema["discriminator"]["mapping"]
        common = ", ".join(f"`{f}`" for f in COMMON[side])
        out.append(f"### {titles[side]}")
        out.append("")
        if side == "client":
            out.append(f"Every client message may carry {common} (1–128 characters); replies name it in `reply_to`.")
        else:
            out.append(f"Every server message carries {common} (null where they do not apply).")
        out.append("")
        for message_type in sorted(mapping):
            name = mapping[message_type].rsplit("/", 1)[-1]
            definition = defs[name]
            out.append(f"#### `{message_type}` ({name})")
            out.append("")
            if definition.get("description"):
                out.append(_cell(definition["description"]))
                out.append("")
            out.extend(_table(definition, COMMON[side]))
            out.append("")
        nested = sorted(n for n in defs if f"#/$defs/{n}" not in mapping.values())
        for name in nested:
            out.append(f"#### {name} (used inside messages)")
            out.append("")
            if defs[name].get("description"):
                out.append(_cell(defs[name]["description"]))
                out.append("")
            out.extend(_table(defs[name], ()))
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def generated_block(page_text: str) -> str:
    """The text between the markers of a page."""
    start = page_text.index(BEGIN) + len(BEGIN)
    return page_text[start:page_text.index(END)].strip("\n") + "\n"


def replace_block(page_text: str, reference: str) -> str:
    head, _, rest = page_text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{reference}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    from app.schemas.ws import protocol_schema

    parser = argparse.ArgumentParser(prog="python -m app.schemas.protocol_doc")
    parser.add_argument("--write", action="store_true", help=f"rewrite the generated block of {PAGE}")
    args = parser.parse_args(argv)
    reference = render(protocol_schema())
    if args.write:
        PAGE.write_text(replace_block(PAGE.read_text(encoding="utf-8"), reference), encoding="utf-8")
    else:
        sys.stdout.write(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
