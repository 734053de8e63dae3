"""Hypothesis strategies from the published JSON Schemas (the subset pydantic emits)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def from_json_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return st.deferred(lambda: from_json_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_json_schema(s, defs) for s in schema[key]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda s: len(s) <= schema.get("maxLength", 10**6) and len(s) >= schema.get("minLength", 0))
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 200), 200))
    if kind == "array":
        return st.lists(from_json_schema(schema.get("items", {}), defs), max_size=4)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        optional = {k: from_json_schema(v, defs) for k, v in properties.items() if k not in required}
        return st.fixed_dictionaries(
            {k: from_json_schema(v, defs) for k, v in properties.items() if k in required}, optional=optional
        )
    return st.none() | st.integers() | st.text(max_size=20)
