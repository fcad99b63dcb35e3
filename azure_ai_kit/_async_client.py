"""`AsyncAzureAIClient`: the asyncio client. Only I/O lives here: each method shapes the
request (`_base`), awaits `openai` inside the retry loop (`_run`), and converts the answer
(`_results`). `_client.py` is generated from this file by `scripts/unasync.py`: edit this one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx2
import openai

from ._async_chat_stream import AsyncChatStream
from ._base import (
    ClientBase,
    build_messages,
    embedding_input,
    given,
    image_options,
)
from ._call import CallState
from ._deployment import Deployment
from ._errors_map import attempt_errors, completion_filtered, download_failed, http_errors
from ._pacing import chat_cost, embedding_cost
from ._results import (
    ChatResult,
    EmbeddingResult,
    ImageResult,
    Served,
    chat_result,
    embedding_result,
    image_result,
)
from ._retry import RetryPolicy
from ._state import StateStore

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncAzureAIClient"]

T = TypeVar("T")
OpenAIClient = openai.AsyncAzureOpenAI | openai.AsyncOpenAI
Send = Callable[[OpenAIClient, Deployment], Awaitable[tuple[T, Mapping[str, str]]]]


class AsyncAzureAIClient(ClientBase):
    """A typed asyncio client for Azure OpenAI: routing, retries and failover across deployments.

    Pass `endpoint=` with a `deployments={"chat": "<deployment>", …}` mapping for one resource,
    or `deployments=[Deployment(…), …]` for a pool. `credential` is an API key, an
    `AzureKeyCredential`, or an azure-identity credential. `http_client=` lets you bring your
    own `httpx2.AsyncClient` or legacy `httpx.AsyncClient` (respx, existing code); the kit never
    closes one you pass. `state=` keeps pool state (quota, cooldowns) in this process (default)
    or, as `"redis://host:port/db"` or a `StateStore`, shared by many (docs/quota.md).
    `clock`/`sleep` are for tests.
    """

    _asynchronous = True
    _openai_v1 = openai.AsyncOpenAI
    _openai_classic = openai.AsyncAzureOpenAI

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        deployments: Mapping[str, str] | Sequence[Deployment] | None = None,
        api_version: str | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx2.AsyncClient | httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        state: str | StateStore | None = None,
    ) -> None:
        super().__init__(
            endpoint,
            credential,
            deployments=deployments,
            api_version=api_version,
            retry=retry,
            timeout=timeout,
            clock=clock,
            state=state,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout, connect=10.0), follow_redirects=False
        )
        self._attempt_errors = attempt_errors(self._http)
        self._sleep = sleep

    # --- calls: shape the request, send it through the retry loop, convert the answer --------
    async def chat(
        self,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        system: str | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Send a chat completion and return a `ChatResult`.

        `prompt` is a string (one user message) or a list of messages. `model` is an alias,
        deployment name or base model (default alias "chat"). Other keyword arguments
        (`temperature`, `tools`, `response_format`, …) pass through to `openai`.
        Raises `ContentFilteredError` when Azure blocks the prompt or cuts the answer.
        """
        messages = build_messages(prompt, system)
        options = {**given(max_tokens=max_tokens), **kwargs}
        call = self._call(model, "chat", chat_cost(messages, options))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name, messages=messages, **self._chat_options(d, options, stream=False)
            )
            return raw.parse(), raw.headers

        completion, served = await self._run(call, send)
        result = chat_result(completion, served)
        call.finish(result.usage, result.model)
        if result.finish_reason == "content_filter":
            raise completion_filtered(result)
        return result

    def stream_chat(
        self,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        system: str | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> AsyncChatStream:
        """Stream a chat completion: `async with client.stream_chat(…) as s: async for c in s: …`.

        Retries and failover happen only before the first chunk reaches you. Takes the same
        arguments as `chat()`; `s.result` holds the whole `ChatResult` at the end.
        """
        messages = build_messages(prompt, system)
        options = {**given(max_tokens=max_tokens), **kwargs}
        call = self._call(model, "chat", chat_cost(messages, options))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name, messages=messages, **self._chat_options(d, options, stream=True)
            )
            stream = raw.parse()
            chunks = aiter(stream)
            try:
                # Reading the first chunk inside the attempt lets a failure here fail over.
                first = await anext(chunks, None)
            except BaseException:
                await stream.close()
                raise
            return (stream, chunks, first), raw.headers

        async def open_stream() -> tuple[Any, Any, Any, CallState]:
            (stream, chunks, first), _ = await self._run(call, send)
            return stream, chunks, first, call

        return AsyncChatStream(open_stream)

    async def generate_image(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        n: int | None = None,
        **kwargs: Any,
    ) -> ImageResult:
        """Generate images (DALL·E 3 / gpt-image-1) and return them decoded as `ImageResult`.

        Asks dall-e for `b64_json` unless you pass `response_format`; other keyword arguments
        (`quality`, `style`, `output_format`, …) pass through to `openai`.
        """
        options = {**given(size=size, n=n), **kwargs}
        call = self._call(model, "image_generation")

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.images.with_raw_response.generate(
                model=d.name, prompt=prompt, **image_options(d, options)
            )
            return raw.parse(), raw.headers

        response, served = await self._run(call, send)
        result = image_result(response, served)
        call.finish(None, None)
        if result.needs_download:
            result = await result.with_downloads_async(self._download)
        return result

    async def embed(
        self, texts: str | Iterable[str], *, model: str | None = None, **kwargs: Any
    ) -> EmbeddingResult:
        """Embed one string or a list of strings; `result.vectors` is in input order.

        Other keyword arguments (`dimensions`, …) pass through to `openai`.
        """
        payload = embedding_input(texts)
        call = self._call(model, "embeddings", embedding_cost(payload))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.embeddings.with_raw_response.create(
                model=d.name, input=payload, **kwargs
            )
            return raw.parse(), raw.headers

        response, served = await self._run(call, send)
        result = embedding_result(response, served)
        call.finish(result.usage, result.model)
        return result

    def openai(self, model: str = "chat") -> OpenAIClient:
        """The configured `openai` client of `model`'s first candidate: an escape hatch.

        It has `max_retries=0` and no failover; pass `model=deployment.name` in its calls.
        """
        return cast(OpenAIClient, self._openai_for(self._candidates(model, "chat")[0][0]))

    # --- the retry loop -----------------------------------------------------------------------
    async def _run(self, call: CallState, send: Send[T]) -> tuple[T, Served]:
        """One attempt per turn until one succeeds or the call gives up (see `CallState`)."""
        while True:
            deployment = call.choose()
            if deployment is not None:
                try:
                    client = self._openai_for(deployment, call.operation)
                    value, headers = await send(client, deployment)
                except self._attempt_errors as exc:
                    call.failed(deployment, exc)
                except BaseException as exc:
                    call.abandoned(deployment, exc)  # cancelled, or a bug: free the deployment
                    raise
                else:
                    return value, call.succeeded(deployment, headers)
            wait = call.next_wait()
            if wait is None:
                raise call.error() from call.cause
            if wait > 0:  # failover is immediate: no sleep, no yield
                await self._sleep(wait)

    async def _download(self, url: str) -> bytes:
        # SAS URLs carry their own authorisation; never send the key to blob storage.
        try:
            response = await self._http.get(url)
            response.raise_for_status()
        except http_errors(self._http) as exc:
            raise download_failed(url, exc) from exc
        return bytes(response.content)

    async def close(self) -> None:
        """Close the HTTP client if the kit created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncAzureAIClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
