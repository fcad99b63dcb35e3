"""Checks on a 200 response before it becomes a result: what `openai` parsed must be usable.

A gateway's HTML page, an empty body, `{"error": …}` with status 200, no choices, or one
vector for two inputs would otherwise come back as `''` or as wrongly paired vectors.
Each check raises `MalformedResponse`, which the retry loop treats like a 5xx: it retries
and fails over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors_map import MalformedResponse

__all__ = ["chat_completion", "embeddings", "images", "is_chat_content"]


def _problem(value: Any, kind: str) -> str | None:
    if isinstance(value, (str, bytes)):
        text = value[:60] if isinstance(value, str) else value[:60].decode("utf-8", "replace")
        return f"a {kind} expected, got text: {text.strip()!r}"
    extra = getattr(value, "__pydantic_extra__", None)  # `model_extra`, without a call
    if extra and "error" in extra:
        error = extra["error"]
        message = error.get("message") if isinstance(error, Mapping) else error
        return f"status 200 with an error: {message}"
    return None


def chat_completion(completion: Any) -> Any:
    """The completion, if it has at least one choice with a message."""
    problem = _problem(completion, "chat completion")
    choices = getattr(completion, "choices", None)
    if problem is None:
        if not isinstance(choices, list) or not choices:
            problem = "no choices"
        else:
            for choice in choices:
                if getattr(choice, "message", None) is None:
                    problem = "a choice without a message"
                    break
    if problem is not None:
        raise MalformedResponse(problem)
    return completion


def embeddings(response: Any, count: int) -> Any:
    """The response, if it has exactly one vector per input, indexed 0 … count-1."""
    problem = _problem(response, "list of embeddings")
    data = getattr(response, "data", None)
    if problem is None:
        if not isinstance(data, list):
            problem = "no data"
        else:
            indexes = [getattr(item, "index", None) for item in data]
            ints = [i for i in indexes if isinstance(i, int)]
            if len(ints) != len(indexes) or sorted(ints) != list(range(count)):
                problem = f"vectors with indexes {indexes} for {count} input(s)"
    if problem is not None:
        raise MalformedResponse(problem)
    return response


def images(response: Any) -> Any:
    """The response, if it has at least one image."""
    problem = _problem(response, "list of images")
    data = getattr(response, "data", None)
    if problem is None and (not isinstance(data, list) or not data):
        problem = "no images"
    if problem is not None:
        raise MalformedResponse(problem)
    return response


def is_chat_content(chunk: Any) -> bool:
    """True for a stream chunk that carries text, a tool call, a refusal, an end, or usage:
    what a stream must have shown before the kit hands it to the caller."""
    if getattr(chunk, "usage", None) is not None:
        return True
    for choice in getattr(chunk, "choices", None) or ():
        delta = choice.delta
        if choice.finish_reason or (
            delta is not None and (delta.content or delta.tool_calls or delta.refusal)
        ):
            return True
    return False
