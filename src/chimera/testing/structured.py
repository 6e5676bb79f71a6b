"""Structured outputs on the test servers, as the real servers take them (pure).

Ollama's ``format`` ("json", or a JSON schema) and OpenAI's ``response_format``
(``json_schema`` with its ``schema``, or ``json_object``) become one JSON schema on the
``Generation``. The llama.cpp engine holds sampling to it with a grammar, as llama.cpp's
server and Ollama do; the modelled engine answers a canned text that is not JSON with the
smallest document the schema allows (a canned text that opens a JSON document is served as
given, so a test can model a document the token cap cut short), so a client's parsing and
validation see what a real server with structured outputs sends.
"""

from __future__ import annotations

from typing import Any

# "json" (Ollama) and "json_object" (OpenAI): any JSON object.
ANY_OBJECT: dict[str, Any] = {"type": "object"}


class FormatError(ValueError):
    """A ``format`` / ``response_format`` the server cannot take; the message says why."""


def ollama_schema(value: Any) -> dict[str, Any] | None:
    """The schema of Ollama's ``format`` field: absent or "" = none."""
    if value is None or value == "":
        return None
    if value == "json":
        return ANY_OBJECT
    if isinstance(value, dict):
        return value
    raise FormatError('format must be "json" or a JSON schema object')


def openai_schema(value: Any) -> dict[str, Any] | None:
    """The schema of OpenAI's ``response_format``: absent or ``text`` = none."""
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":  # llama-cpp-python's server also takes a schema here
        schema = value.get("schema")
        return schema if isinstance(schema, dict) else ANY_OBJECT
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            return schema
        raise FormatError("response_format.json_schema.schema must be a JSON schema object")
    raise FormatError("response_format.type must be text, json_object or json_schema")


def looks_like_json(text: str) -> bool:
    """A canned answer that opens a JSON document is served as given, whole or cut short: a
    grammar holds a server's tokens to the schema, but a token cap can still cut the document
    (the invalid JSON a client must survive)."""
    return text.lstrip().startswith(("{", "["))


def smallest_instance(schema: dict[str, Any]) -> Any:
    """The smallest useful document ``schema`` allows: required properties (all, when none
    are listed), ``minItems`` items (at least one), the first ``enum`` value, ``minLength``
    characters, the ``minimum``. Covers the keywords of the schemas clients send (``anyOf``
    and the like by their first branch; no ``$ref``)."""
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for branch in ("anyOf", "oneOf", "allOf"):
        if schema.get(branch):
            return smallest_instance(schema[branch][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0] if kind else "object"
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        names = schema.get("required") or list(props)
        return {name: smallest_instance(props.get(name) or {}) for name in names}
    if kind == "array":
        item = schema.get("items") or {}
        return [smallest_instance(item) for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind == "string":
        return "x" * int(schema.get("minLength", 1))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return int(low) + (1 if "exclusiveMinimum" in schema else 0) if kind == "integer" else low
    if kind == "boolean":
        return False
    return None
