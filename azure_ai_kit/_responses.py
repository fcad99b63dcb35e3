"""The Responses API's results: `ResponseResult`, its converter, and the stream's fold. No I/O.

A response is `{"id": "resp_…", "status": "completed" | "incomplete" | …, "output": [items]}`
where items are messages (`output_text` and `refusal` parts), `function_call`s and
`reasoning`; `incomplete_details.reason` is `max_output_tokens` or `content_filter`
(openai-python `types/responses/response.py`). A stream is SSE events from
`response.created` to `response.completed`, or `response.failed` / `response.incomplete`,
with an `error` event for failures (docs/wire.md, "Responses API").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import openai

from ._deployment import Deployment
from ._errors_map import StreamFailed
from ._exceptions import AzureAIKitError, ContentFilteredError
from ._results import Served, Usage
from ._structured import is_model_type, parse_reply, responses_text_format

__all__ = [
    "FIRST_CONTENT",
    "ResponseChunk",
    "ResponseFolder",
    "ResponseHomes",
    "ResponseResult",
    "explain_pinned",
    "failed_event_error",
    "finish_response",
    "respond_options",
    "response_result",
]

#: Events that end the part of a stream read inside the retry loop: the first text, or an end.
FIRST_CONTENT = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "error",
    }
)


@dataclass(frozen=True)
class ResponseResult(Served):
    """A Responses API answer: the text and everything Azure said about it.

    `text` joins every `output_text` part; `output` holds the items as `openai` objects
    (messages, function calls, reasoning); `tool_calls` the `function_call` items.
    `status` is "completed" or "incomplete" (`incomplete_reason` says why:
    "max_output_tokens" or "content_filter"). `parsed` is the pydantic instance when the call
    passed `text_format=` a model (None when the model refused: `refusal` says why).
    `raw` is the `openai` `Response`.
    """

    text: str = ""
    id: str = ""
    status: str | None = None
    output: tuple[Any, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    incomplete_reason: str | None = None
    parsed: Any = None
    refusal: str | None = None
    raw: Any = field(default=None, repr=False)

    @property
    def tool_calls(self) -> list[Any]:
        """The `function_call` items (`.name`, `.arguments` JSON, `.call_id`)."""
        return [item for item in self.output if getattr(item, "type", None) == "function_call"]


def respond_options(
    instructions: str | None,
    max_output_tokens: int | None,
    text_format: Any,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The keyword arguments `openai`'s `responses.create` gets (besides `model` and `input`)."""
    options = dict(kwargs)
    if instructions is not None:
        options["instructions"] = instructions
    if max_output_tokens is not None:
        options["max_output_tokens"] = max_output_tokens
    if text_format is not None:
        if not is_model_type(text_format):
            raise TypeError(
                f"text_format= takes a pydantic BaseModel subclass, got {text_format!r}; for a "
                "hand-written JSON schema pass text={'format': {'type': 'json_schema', …}}"
            )
        options["text"] = responses_text_format(text_format, options.get("text"))
    return options


def explain_pinned(
    error: AzureAIKitError, pinned: Deployment | None, options: dict[str, Any]
) -> None:
    """Say in `error` why a follow-up turn did not fail over (no-op for an unpinned call)."""
    if pinned is None:
        return
    error.message = (
        f"previous_response_id {options.get('previous_response_id')} is stored on "
        f"{pinned.id}, so this follow-up turn can only go there (a stored response lives on "
        f"one resource; the kit does not fail over to another): {error.message}"
    )
    error.args = (error.message,)


def response_result(response: Any, served: Served) -> ResponseResult:
    """Convert an `openai` `Response` into a `ResponseResult`."""
    texts: list[str] = []
    refusals: list[str] = []
    output = tuple(response.output or ())
    for item in output:
        if getattr(item, "type", None) != "message":
            continue
        for part in item.content or ():
            kind = getattr(part, "type", None)
            if kind == "output_text" and part.text:
                texts.append(part.text)
            elif kind == "refusal" and part.refusal:
                refusals.append(part.refusal)
    details = getattr(response, "incomplete_details", None)
    return ResponseResult(
        *served.parts(),
        text="".join(texts),
        id=response.id or "",
        status=response.status,
        output=output,
        usage=Usage.from_openai(response.usage),
        model=response.model or None,
        incomplete_reason=getattr(details, "reason", None),
        refusal="".join(refusals) or None,
        raw=response,
    )


def finish_response(result: ResponseResult, text_format: Any) -> ResponseResult:
    """Raise for a filtered answer; parse a structured one (`text_format`, a pydantic model)."""
    if result.incomplete_reason != "content_filter" and (
        text_format is None or result.refusal is not None
    ):
        return result  # the common case, on every call
    where = {
        "deployment": result.deployment,
        "request_id": result.request_id,
        "attempts": result.attempts,
    }
    if result.incomplete_reason == "content_filter":
        raise ContentFilteredError(
            "the response was cut by Azure's content filter (status incomplete, reason "
            "content_filter); the partial text is on .partial_text",
            source="completion",
            categories={},
            partial_text=result.text,
            status_code=200,
            **where,
        )
    cut: Literal["length"] | None = (
        "length" if result.incomplete_reason == "max_output_tokens" else None
    )
    return replace(result, parsed=parse_reply(text_format, result.text, cut=cut, where=where))


def failed_event_error(event: Any, request: Any) -> openai.APIError:
    """An `openai.APIError` for a `response.failed` or `error` event read inside an attempt,
    so the retry loop classifies it like any failed attempt (transient codes fail over)."""
    code, message = _event_error(event)
    body = {"code": code, "message": message}
    return openai.APIError(f"the response stream failed: {message}", request, body=body)


def _event_error(event: Any) -> tuple[str | None, str]:
    if event.type == "error":
        return getattr(event, "code", None), str(getattr(event, "message", None) or "error event")
    error = getattr(getattr(event, "response", None), "error", None)
    if error is None:
        return None, "response.failed without an error object"
    return getattr(error, "code", None), str(getattr(error, "message", "") or error.code)


@dataclass(slots=True)  # not frozen: one is made per streamed event, and frozen costs 3.5×
class ResponseChunk:
    """One event of a streamed response. `text` is the event's output text (empty for
    events that carry none); `type` is the event type; `raw` the `openai` event."""

    text: str = ""
    type: str = ""
    raw: Any = field(default=None, repr=False)


class ResponseFolder:
    """Folds Responses API events into the final `ResponseResult`, as they arrive.

    `remember(result)` is told each completed response (the client maps its id to the
    deployment that holds it); `text_format` parses a structured reply at the end.
    """

    def __init__(
        self, text_format: Any = None, remember: Callable[[ResponseResult], None] | None = None
    ) -> None:
        self.text_format = text_format
        self.remember = remember
        self.parts: list[str] = []
        self.final: Any = None

    def add(self, event: Any) -> ResponseChunk:
        """Take one event; a `response.failed` or `error` event raises `StreamFailed`."""
        kind = event.type
        if kind == "response.output_text.delta":
            self.parts.append(event.delta)
            return ResponseChunk(event.delta, kind, event)
        if kind in ("response.completed", "response.incomplete"):
            self.final = event.response
        elif kind in ("response.failed", "error"):
            code, message = _event_error(event)
            raise StreamFailed(f"{message} ({code})" if code else message)
        return ResponseChunk("", kind, event)

    def partial_text(self) -> str:
        """The output text so far."""
        return "".join(self.parts)

    def finish(self, served: Served) -> tuple[ResponseResult, str | None]:
        """The result; incomplete when the stream ended before its final event."""
        if self.final is None:
            partial = ResponseResult(*served.parts(), text=self.partial_text(), status=None)
            return partial, "it ended before response.completed (the answer is incomplete)"
        return response_result(self.final, served), None

    def complete(self, result: ResponseResult) -> ResponseResult:
        """Remember where the response lives; raise for a cut one; parse a structured reply."""
        if self.remember is not None:
            self.remember(result)
        return finish_response(result, self.text_format)


class ResponseHomes:
    """Which deployment holds each response the client produced (a bounded LRU map).

    A stored response lives on one resource, so a follow-up turn (`previous_response_id`)
    must go to the deployment that answered the first.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._homes: OrderedDict[str, Deployment] = OrderedDict()

    def add(self, response_id: str, deployment: Deployment | None) -> None:
        """Remember that `deployment` holds `response_id` (forgetting the oldest past size)."""
        if not response_id or deployment is None:
            return
        self._homes[response_id] = deployment
        self._homes.move_to_end(response_id)
        while len(self._homes) > self._size:
            self._homes.popitem(last=False)

    def get(self, response_id: Any) -> Deployment | None:
        """The deployment holding `response_id`, or None when this client never saw it."""
        if not isinstance(response_id, str):
            return None
        deployment = self._homes.get(response_id)
        if deployment is not None:
            self._homes.move_to_end(response_id)
        return deployment
