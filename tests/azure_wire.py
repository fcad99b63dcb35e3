"""Canned Azure OpenAI responses, copied from docs/wire.md (bodies verbatim, "…" included).

Each constant names the docs/wire.md section it comes from. The helpers build `httpx.Response`s and
SSE streams from them; `Recorder` is the `httpx.MockTransport` handler every test uses.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from azure_ai_kit.emulator import bodies

ENDPOINT = "https://res.openai.azure.com"
V1_ENDPOINT = "https://res.openai.azure.com/openai/v1"
API_KEY = "sk-azure-SECRET-0123456789abcdef"  # a recognisable secret, hunted in reprs and logs
SCOPE = "https://cognitiveservices.azure.com/.default"
DEPLOYMENTS = {
    "chat": "gpt-4o",
    "code": "gpt-41",
    "image": "dall-e-3",
    "embedding": "text-embedding-3-small",
}

# --- docs/wire.md, "Response headers" ------------------------------------------------------------
SUCCESS_HEADERS = {
    "apim-request-id": "apim-0001",
    "x-request-id": "xreq-0001",
    "x-ms-region": "East US 2",
    "x-ratelimit-remaining-requests": "99",
    "x-ratelimit-remaining-tokens": "9000",
}

# --- docs/wire.md, "Content-filter annotations on success" ---------------------------------------
SAFE = {"filtered": False, "severity": "safe"}
PROMPT_FILTER_RESULTS = [
    {
        "prompt_index": 0,
        "content_filter_results": {
            "hate": SAFE,
            "jailbreak": {"filtered": False, "detected": False},
            "self_harm": SAFE,
            "sexual": SAFE,
            "violence": SAFE,
        },
    }
]
CHOICE_FILTER_RESULTS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
FILTER_UNAVAILABLE = {
    "error": {"code": "content_filter_error", "message": "The contents are not filtered"}
}


def chat_completion(
    text: str = "Paris is the capital of France.",
    *,
    finish_reason: str = "stop",
    choice_filter: Mapping[str, Any] | None = None,
    usage: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A chat completion as Azure sends it (docs/wire.md, "Content-filter annotations on
    success")."""
    return {
        "id": "chatcmpl-AZ1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-2024-05-13",
        "prompt_filter_results": PROMPT_FILTER_RESULTS,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": text},
                "content_filter_results": dict(choice_filter or CHOICE_FILTER_RESULTS),
            }
        ],
        "usage": dict(usage or {"prompt_tokens": 27, "completion_tokens": 24, "total_tokens": 51}),
    }


# A completion cut by the filter: HTTP 200, finish_reason "content_filter", partial content.
CUT_COMPLETION_FILTER = {
    "hate": SAFE,
    "self_harm": SAFE,
    "sexual": SAFE,
    "violence": {"filtered": True, "severity": "high"},
}

# --- docs/wire.md, "Error bodies" ----------------------------------------------------------------
THROTTLED_429 = bodies.THROTTLED
UNAUTHORIZED_401 = bodies.UNAUTHORIZED
PERMISSION_DENIED_401 = bodies.PERMISSION_DENIED
FORBIDDEN_403 = bodies.FORBIDDEN
DEPLOYMENT_NOT_FOUND_404 = bodies.DEPLOYMENT_NOT_FOUND
# The spelling captured on the wire: `innererror` / `content_filter_result`.
PROMPT_FILTERED_400 = bodies.PROMPT_FILTERED
# The spec's spelling: `inner_error` / `content_filter_results`.
PROMPT_FILTERED_400_SPEC = bodies.PROMPT_FILTERED_SPEC
IMAGE_POLICY_VIOLATION_400 = bodies.IMAGE_CONTENT_POLICY
CONTEXT_LENGTH_400 = bodies.CONTEXT_LENGTH_EXCEEDED
# docs/wire.md, "Reasoning models": a reasoning model refuses max_tokens.
MAX_TOKENS_UNSUPPORTED_400 = bodies.MAX_TOKENS_UNSUPPORTED
SERVER_ERROR_500 = bodies.SERVER_ERROR

# --- docs/wire.md, "Streaming" -------------------------------------------------------------------
STREAM_FIRST_CHUNK = {  # Azure's empty first chunk: no choices, prompt annotations only
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": PROMPT_FILTER_RESULTS,
}


def content_chunk(
    content: str | None,
    *,
    finish_reason: str | None = None,
    role: str | None = None,
    choice_filter: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A content chunk carrying `choices[0].content_filter_results` (docs/wire.md)."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-AZ2",
        "object": "chat.completion.chunk",
        "created": 1_700_000_001,
        "model": "gpt-4o-2024-05-13",
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "finish_reason": finish_reason,
                "content_filter_results": dict(
                    CHOICE_FILTER_RESULTS if choice_filter is None else choice_filter
                ),
            }
        ],
    }


USAGE_CHUNK = {  # with include_usage: the last chunk before [DONE] has no choices and usage
    "id": "chatcmpl-AZ2",
    "object": "chat.completion.chunk",
    "created": 1_700_000_001,
    "model": "gpt-4o-2024-05-13",
    "choices": [],
    "usage": {"prompt_tokens": 27, "completion_tokens": 3, "total_tokens": 30},
}


def stream_chunks(*, usage: bool = True) -> list[dict[str, Any]]:
    """Azure's stream for the answer "Hello world": first chunk, content, (usage)."""
    chunks = [
        STREAM_FIRST_CHUNK,
        content_chunk("", role="assistant", choice_filter={}),
        content_chunk("Hello"),
        content_chunk(" world"),
        content_chunk(None, finish_reason="stop", choice_filter={}),
    ]
    return [*chunks, USAGE_CHUNK] if usage else chunks


def sse(chunks: Iterable[Mapping[str, Any]], *, done: bool = True) -> bytes:
    """Encode chunks as Azure's SSE body: `data: {json}\\n\\n` … `data: [DONE]`."""
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def sse_response(chunks: Iterable[Mapping[str, Any]], **headers: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", **SUCCESS_HEADERS, **headers},
        content=sse(chunks),
    )


# --- docs/wire.md, "Images" ----------------------------------------------------------------------
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"IEND"
BLOB_URL = (
    "https://dalleprodsec.blob.core.windows.net/private/images/abc/generated_00.png"
    "?se=2025-01-02T00%3A00%3A00Z&sig=SASSIG"
)


def image_response(*, url: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "revised_prompt": "A watercolour painting of a red fox in a snowy forest.",
        "content_filter_results": CHOICE_FILTER_RESULTS,
        # For images `prompt_filter_results` is an object, not a list (docs/wire.md).
        "prompt_filter_results": {
            "hate": SAFE,
            "jailbreak": {"filtered": False, "detected": False},
            "self_harm": SAFE,
            "sexual": SAFE,
            "violence": SAFE,
        },
    }
    if url:
        item["url"] = BLOB_URL
    else:
        item["b64_json"] = base64.b64encode(PNG_BYTES).decode()
    return {"created": 1_700_000_002, "data": [item]}


def embedding_response(vectors_by_index: Mapping[int, list[float]]) -> dict[str, Any]:
    """Embeddings listed in the given (possibly shuffled) index order."""
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in vectors_by_index.items()
        ],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }


def ok(body: Mapping[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers={**SUCCESS_HEADERS, **headers})


def error(status: int, body: Mapping[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json=body,
        headers={"x-request-id": "xreq-err", "apim-request-id": "apim-err", **headers},
    )


Reply = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler: records every request and answers from a script or a router.

    `Recorder(reply)` answers every request with `reply`; `Recorder([r1, r2])` answers in turn
    (the last one repeats). A reply may be a Response, an exception to raise, or a function
    of the request. Use `.sync` / `.asynchronous` with `httpx.MockTransport`.
    """

    def __init__(self, replies: Reply | list[Reply] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        if replies is None:
            replies = self.default
        self._replies = list(replies) if isinstance(replies, list) else [replies]

    @staticmethod
    def default(request: httpx.Request) -> httpx.Response:
        """Route by path to a canned success for chat, images and embeddings."""
        path = request.url.path
        if path.endswith("/chat/completions"):
            if json.loads(request.content).get("stream"):
                return sse_response(stream_chunks())
            return ok(chat_completion())
        if path.endswith("/images/generations"):
            return ok(image_response())
        if path.endswith("/embeddings"):
            # One vector per input, sent out of order (as Azure may): a one-hot per index.
            given = json.loads(request.content)["input"]
            count = 1 if isinstance(given, str) else len(given)
            size = max(count, 2)
            return ok(
                embedding_response(
                    {
                        i: [1.0 if j == i else 0.0 for j in range(size)]
                        for i in reversed(range(count))
                    }
                )
            )
        return httpx.Response(404, json={"error": {"code": "404", "message": "no route"}})

    def sync(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self._replies)) - 1
        reply = self._replies[index]
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, httpx.Response):
            # A Response can be read only once; hand out a fresh copy each time.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    async def asynchronous(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self.sync(request)

    def body(self, index: int = -1) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.requests[index].content)
        return result


# --- fakes for the things around the wire ----------------------------------------------------
class FakeTokenCredential:
    """A sync azure-core `TokenCredential`: counts calls and records the scopes asked for."""

    def __init__(self, lifetime: float = 3600.0, prefix: str = "entra-token") -> None:
        self.lifetime = lifetime
        self.prefix = prefix
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import time

        from azure.core.credentials import AccessToken

        self.calls.append(scopes)
        return AccessToken(f"{self.prefix}-{len(self.calls)}", int(time.time() + self.lifetime))


class FakeAsyncTokenCredential:
    """An `AsyncTokenCredential` (azure.identity.aio shape): `async def get_token`."""

    def __init__(self, lifetime: float = 3600.0, prefix: str = "entra-token") -> None:
        self.lifetime = lifetime
        self.prefix = prefix
        self.calls: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import time

        from azure.core.credentials import AccessToken

        self.calls.append(scopes)
        return AccessToken(f"{self.prefix}-{len(self.calls)}", int(time.time() + self.lifetime))

    async def close(self) -> None:
        pass
