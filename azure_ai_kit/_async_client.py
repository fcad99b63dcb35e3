"""`AsyncAzureAIClient`: the asyncio client. Only I/O lives here: each method shapes the
request (`_base`), awaits `openai` inside the retry loop (`_run`), and converts the answer
(`_results`). `_client.py` is generated from this file by `scripts/unasync.py`: edit this one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx2
import openai

from . import _checks
from ._async_stream import AsyncChatStream, AsyncResponseStream
from ._base import (
    ClientBase,
    build_messages,
    embedding_input,
    image_options,
    image_prompt,
    request_options,
)
from ._call import CallState
from ._deployment import Deployment
from ._downloads import (
    ImageDownloads,
    bad_status,
    check_image_url,
    declared_size,
    quiet_query,
    redact_error,
    too_large,
)
from ._errors_map import (
    MalformedResponse,
    attempt_errors,
    completion_filtered,
    download_failed,
    http_errors,
)
from ._exceptions import AzureAIKitError
from ._pacing import chat_cost, embedding_cost
from ._responses import (
    FIRST_CONTENT,
    ResponseResult,
    explain_pinned,
    failed_event_error,
    finish_response,
    respond_options,
    response_result,
)
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
from ._structured import structured_chat, structured_format
from ._watchdog import AsyncWatch

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
    closes one you pass. `image_downloads=` says which image URLs the kit may fetch
    (`ImageDownloads`; default: Azure blob storage and the deployment's own endpoint, at most
    50 MiB). `state=` keeps pool state (quota, cooldowns) in this process (default) or, as
    `"redis://host:port/db"` or a `StateStore`, shared by many (docs/quota.md).
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
        image_downloads: ImageDownloads | None = None,
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
        self._image_downloads = image_downloads or ImageDownloads()

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
        deployment name or base model (default alias "chat"). `response_format=` a pydantic
        model sends its strict JSON schema and sets `result.parsed` (or `result.refusal`).
        Other keyword arguments (`temperature`, `tools`, …) pass through to `openai`.
        Raises `ContentFilteredError` when Azure blocks the prompt or cuts the answer, and
        `StructuredOutputError` when a structured reply is cut or does not validate.
        """
        messages = build_messages(prompt, system)
        options = request_options("chat", kwargs, max_tokens=max_tokens)
        structured = structured_format(options)
        call = self._call(model, "chat", lambda: chat_cost(messages, options))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name,
                messages=messages,
                **self._chat_options(d, options, stream=False),
                **self._timeout_for(call, options),
            )
            return _checks.chat_completion(raw.parse()), raw.headers

        completion, served = await self._run(call, send)
        result = chat_result(completion, served)
        call.finish(result.usage, result.model)
        if result.finish_reason == "content_filter":
            raise completion_filtered(result)
        return result if structured is None else structured_chat(result, structured)

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
        arguments as `chat()`; `s.result` holds the whole `ChatResult` at the end (with
        `parsed` for a `response_format=` model).
        """
        messages = build_messages(prompt, system)
        options = request_options("stream_chat", kwargs, max_tokens=max_tokens)
        structured = structured_format(options)
        call = self._call(model, "chat", lambda: chat_cost(messages, options))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name,
                messages=messages,
                **self._chat_options(d, options, stream=True),
                **self._timeout_for(call, options),
            )
            return await self._first_events(call, raw.parse(), _checks.is_chat_content), raw.headers

        async def open_stream() -> tuple[Any, Any, Any, Any, CallState]:
            (stream, events, first, watch), _ = await self._run(call, send)
            return stream, events, first, watch, call

        parse = None if structured is None else functools.partial(structured_chat, model=structured)
        return AsyncChatStream(open_stream, parse)

    async def respond(
        self,
        input: str | Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        instructions: str | None = None,
        max_output_tokens: int | None = None,
        text_format: Any = None,
        **kwargs: Any,
    ) -> ResponseResult:
        """Create a response with the Responses API and return a `ResponseResult`.

        `input` is a string or a list of input items; `model` as for `chat()` (default alias
        "chat"). `text_format=` a pydantic model sends its strict JSON schema and sets
        `result.parsed`. `previous_response_id=` continues a conversation on the deployment
        that stores it (no failover to another resource). Other keyword arguments (`tools`,
        `reasoning`, `store`, …) pass through to `openai`'s `responses.create`.
        """
        options = respond_options(instructions, max_output_tokens, text_format, kwargs)
        items: Any = input if isinstance(input, str) else list(input)
        call, pinned = self._respond_call(model, options)

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.responses.with_raw_response.create(
                model=d.name, input=items, **options, **self._timeout_for(call, options)
            )
            return raw.parse(), raw.headers

        try:
            response, served = await self._run(call, send)
        except AzureAIKitError as exc:
            explain_pinned(exc, pinned, options)
            raise
        result = response_result(response, served)
        call.finish(result.usage, result.model)
        self._remember(call, options, result)
        return finish_response(result, text_format)

    def stream_respond(
        self,
        input: str | Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        instructions: str | None = None,
        max_output_tokens: int | None = None,
        text_format: Any = None,
        **kwargs: Any,
    ) -> AsyncResponseStream:
        """Stream a response: `async with client.stream_respond(…) as s: async for c in s: …`.

        Retries and failover happen only before the first text reaches you. Takes the same
        arguments as `respond()`; `s.result` holds the whole `ResponseResult` at the end.
        """
        options = respond_options(instructions, max_output_tokens, text_format, kwargs)
        items: Any = input if isinstance(input, str) else list(input)
        call, pinned = self._respond_call(model, options)

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.responses.with_raw_response.create(
                model=d.name,
                input=items,
                stream=True,
                **options,
                **self._timeout_for(call, options),
            )
            opened = await self._first_events(call, raw.parse(), _is_response_content)
            last = opened[2][-1]
            if last.type in ("response.failed", "error"):
                opened[3].stop()
                await opened[0].close()
                raise failed_event_error(last, raw.http_request)
            return opened, raw.headers

        async def open_stream() -> tuple[Any, Any, Any, Any, CallState]:
            try:
                (stream, events, first, watch), _ = await self._run(call, send)
            except AzureAIKitError as exc:
                explain_pinned(exc, pinned, options)
                raise
            return stream, events, first, watch, call

        return AsyncResponseStream(
            open_stream,
            text_format=text_format,
            remember=functools.partial(self._remember, call, options),
        )

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
        prompt = image_prompt(prompt)
        options = request_options("image", kwargs, size=size, n=n)
        call = self._call(model, "image_generation")

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.images.with_raw_response.generate(
                model=d.name,
                prompt=prompt,
                **image_options(d, options),
                **self._timeout_for(call, options),
            )
            return _checks.images(raw.parse()), raw.headers

        response, served = await self._run(call, send)
        result = image_result(response, served)
        call.finish(None, None)
        if result.needs_download:
            assert call.deployment is not None
            endpoint = call.deployment.resource_endpoint

            async def fetch(url: str) -> bytes:
                return await self._download(url, endpoint)

            result = await result.with_downloads_async(fetch)
        return result

    async def embed(
        self, texts: str | Iterable[str], *, model: str | None = None, **kwargs: Any
    ) -> EmbeddingResult:
        """Embed one string or a list of strings; `result.vectors` is in input order.

        Other keyword arguments (`dimensions`, …) pass through to `openai`.
        """
        payload = embedding_input(texts)
        call = self._call(model, "embeddings", lambda: embedding_cost(payload))

        async def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.embeddings.with_raw_response.create(
                model=d.name, input=payload, **kwargs, **self._timeout_for(call, kwargs)
            )
            count = 1 if isinstance(payload, str) else len(payload)
            return _checks.embeddings(raw.parse(), count), raw.headers

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
        try:
            while True:
                deployment = call.choose()
                if deployment is not None:
                    try:
                        client = self._openai_for(deployment, call.operation)
                        value, headers = await send(client, deployment)
                    except self._attempt_errors as exc:
                        call.failed(deployment, exc)
                    except BaseException:
                        call.abandoned(deployment)  # cancelled, or a bug: free the deployment
                        raise
                    else:
                        return value, call.succeeded(deployment, headers)
                wait = call.next_wait()
                if wait is None:
                    raise call.error() from call.cause
                if wait > 0:  # failover is immediate: no sleep, no yield
                    await self._sleep(wait)
        except BaseException as exc:
            call.ended(exc)  # however the call leaves the loop, its telemetry span ends
            raise

    async def _first_events(
        self, call: CallState, stream: Any, is_content: Callable[[Any], bool]
    ) -> tuple[Any, Any, list[Any], AsyncWatch]:
        """Read a new stream up to its first content, inside the attempt, under a watch.

        A failure here, a stall, or a stream that ends with no content fails over like any
        other attempt; after it, the caller has seen text and the stream is theirs.
        """
        watch = AsyncWatch.start(stream, idle=self._timeout, remaining=call.remaining())
        events = aiter(stream)
        first: list[Any] = []
        try:
            while not first or not is_content(first[-1]):
                event = await anext(events, None)
                if event is None:
                    raise MalformedResponse("the stream ended before any content")
                first.append(event)
        except BaseException as exc:
            watch.stop()
            stalled = watch.stalled()
            await stream.close()
            if stalled is not None:
                raise stalled from exc
            raise
        return stream, events, first, watch

    async def _download(self, url: str, endpoint: str) -> bytes:
        # The URL came from the network: check it first (docs/images.md). SAS URLs carry their
        # own authorisation; never send the key to blob storage. Redirects are not followed.
        shown = check_image_url(url, self._image_downloads, endpoint)
        limit = self._image_downloads.max_bytes
        data = bytearray()
        with quiet_query():
            try:
                async with self._http.stream("GET", url, follow_redirects=False) as response:
                    if response.status_code != 200:
                        raise bad_status(shown, response.status_code)
                    if declared_size(response.headers) > limit:
                        raise too_large(shown, limit)
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise too_large(shown, limit)
            except http_errors(self._http) as exc:
                raise download_failed(shown, exc) from redact_error(exc, url)
        return bytes(data)

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


def _is_response_content(event: Any) -> bool:
    return event.type in FIRST_CONTENT
