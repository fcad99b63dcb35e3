"""Structured outputs: a pydantic model as a strict JSON schema, and the reply parsed back.

Azure's structured outputs take a JSON schema in strict mode: every object closed
(`additionalProperties: false`) and every property required (openai-python's
`lib/_pydantic.py`, `to_strict_json_schema`, which the kit uses when it is importable). Chat
sends it as `response_format={"type": "json_schema", "json_schema": {…}}`, the Responses API
as `text={"format": {"type": "json_schema", …}}` (openai-python `lib/_parsing`). No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import pydantic

from ._exceptions import StructuredOutputError
from ._results import ChatResult

__all__ = [
    "chat_response_format",
    "is_model_type",
    "parse_reply",
    "responses_text_format",
    "strict_schema",
    "structured_chat",
    "structured_format",
]


def is_model_type(value: object) -> bool:
    """True for a pydantic `BaseModel` subclass (what `response_format=` may be)."""
    return isinstance(value, type) and issubclass(value, pydantic.BaseModel)


def strict_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The strict JSON schema of `model`: closed objects, every property required."""
    try:
        from openai.lib._pydantic import to_strict_json_schema
    except ImportError:  # a private helper: keep working if openai moves it
        schema: dict[str, Any] = _strict(model.model_json_schema())
        return schema
    return to_strict_json_schema(model)


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out["properties"])
    out.pop("default", None)  # strict mode refuses defaults
    return out


def _schema_name(model: type[pydantic.BaseModel]) -> str:
    # Azure accepts [a-zA-Z0-9_-]{1,64} as a schema name.
    return re.sub(r"[^a-zA-Z0-9_-]", "_", model.__name__)[:64] or "Output"


def chat_response_format(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """Chat's `response_format` for `model`."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": _schema_name(model),
            "schema": strict_schema(model),
            "strict": True,
        },
    }


def responses_text_format(
    model: type[pydantic.BaseModel], text: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The Responses API's `text` for `model` (other `text` settings, e.g. verbosity, kept)."""
    fmt = {
        "type": "json_schema",
        "name": _schema_name(model),
        "schema": strict_schema(model),
        "strict": True,
    }
    return {**(text or {}), "format": fmt}


def parse_reply(
    model: type[pydantic.BaseModel],
    text: str,
    *,
    cut: Literal["length"] | None,
    where: Mapping[str, Any],
) -> Any:
    """`model` validated from the reply `text`; `StructuredOutputError` when cut or invalid.

    `cut` is "length" when Azure stopped at the token limit; `where` carries the served facts
    (deployment, request_id, attempts) onto the error.
    """
    if cut is not None:
        raise StructuredOutputError(
            f"the structured reply from {where.get('deployment')} was cut at the token limit "
            f"after {len(text)} characters, so it is not valid {model.__name__} JSON; raise "
            "max_tokens / max_output_tokens (the raw text is on .text)",
            text=text,
            reason="length",
            status_code=200,
            **where,
        )
    try:
        return model.model_validate_json(text)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        detail = errors[0]["msg"] if errors else "invalid"
        at = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        raise StructuredOutputError(
            f"the reply from {where.get('deployment')} is not a valid {model.__name__} "
            f"({exc.error_count()} error(s); first: {at + ': ' if at else ''}{detail}); the raw "
            "text is on .text — check the schema is one strict mode supports",
            text=text,
            reason="invalid",
            validation_error=exc,
            status_code=200,
            **where,
        ) from exc


def structured_format(options: dict[str, Any]) -> type[pydantic.BaseModel] | None:
    """Turn a pydantic model passed as chat's `response_format` into its strict JSON schema
    (in `options`, in place) and return the model; None when it is anything else."""
    model = options.get("response_format")
    if model is None or not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        return None
    options["response_format"] = chat_response_format(model)
    return model


def structured_chat(result: ChatResult, model: type[pydantic.BaseModel]) -> ChatResult:
    """`result` with `parsed` set from its text; untouched when the model refused."""
    if result.refusal is not None:
        return result
    parsed = parse_reply(
        model,
        result.text,
        cut="length" if result.finish_reason == "length" else None,
        where=_where(result),
    )
    return replace(result, parsed=parsed)


def _where(result: Any) -> dict[str, Any]:
    return {
        "deployment": result.deployment,
        "request_id": result.request_id,
        "attempts": result.attempts,
    }
