# Generated from _async_client.py by scripts/unasync.py: do not edit.
"""`AzureAIClient`: the synchronous client. Only I/O lives here: each method shapes the
request (`_base`), calls `openai` inside the retry loop (`_run`), and converts the answer
(`_results`). `_client.py` is generated from this file by `scripts/unasync.py`: edit this one.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx2
import openai

from . import _checks
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
from ._stream import ChatStream, ResponseStream
from ._structured import structured_chat, structured_format
from ._watchdog import Watch

if TYPE_CHECKING:
    import httpx

__all__ = ["AzureAIClient"]

T = TypeVar("T")
OpenAIClient = openai.AzureOpenAI | openai.OpenAI
Send = Callable[[OpenAIClient, Deployment], tuple[T, Mapping[str, str]]]


class AzureAIClient(ClientBase):
    """A typed client for Azure OpenAI: routing, retries and failover across deployments.

    Pass `endpoint=` with a `deployments={"chat": "<deployment>", …}` mapping for one resource,
    or `deployments=[Deployment(…), …]` for a pool. `credential` is an API key, an
    `AzureKeyCredential`, or an azure-identity credential. `http_client=` lets you bring your
    own `httpx2.Client` or legacy `httpx.Client` (respx, existing code); the kit never
    closes one you pass. `image_downloads=` says which image URLs the kit may fetch
    (`ImageDownloads`; default: Azure blob storage and the deployment's own endpoint, at most
    50 MiB). `state=` keeps pool state (quota, cooldowns) in this process (default) or, as
    `"redis://host:port/db"` or a `StateStore`, shared by many (docs/quota.md).
    `clock`/`sleep` are for tests.
    """

    _openai_v1 = openai.OpenAI
    _openai_classic = openai.AzureOpenAI

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        deployments: Mapping[str, str] | Sequence[Deployment] | None = None,
        api_version: str | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx2.Client | httpx.Client | None = None,
        timeout: float = 60.0,
        image_downloads: ImageDownloads | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
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
        self._http = http_client or httpx2.Client(
            timeout=httpx2.Timeout(timeout, connect=10.0), follow_redirects=False
        )
        self._attempt_errors = attempt_errors(self._http)
        self._sleep = sleep
        self._image_downloads = image_downloads or ImageDownloads()

    # --- calls: shape the request, send it through the retry loop, convert the answer --------
    def chat(
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

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.chat.completions.with_raw_response.create(
                model=d.name,
                messages=messages,
                **self._chat_options(d, options, stream=False),
                **self._timeout_for(call, options),
            )
            return _checks.chat_completion(raw.parse()), raw.headers

        completion, served = self._run(call, send)
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
    ) -> ChatStream:
        """Stream a chat completion: `with client.stream_chat(…) as s: for c in s: …`.

        Retries and failover happen only before the first chunk reaches you. Takes the same
        arguments as `chat()`; `s.result` holds the whole `ChatResult` at the end (with
        `parsed` for a `response_format=` model).
        """
        messages = build_messages(prompt, system)
        options = request_options("stream_chat", kwargs, max_tokens=max_tokens)
        structured = structured_format(options)
        call = self._call(model, "chat", lambda: chat_cost(messages, options))

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.chat.completions.with_raw_response.create(
                model=d.name,
                messages=messages,
                **self._chat_options(d, options, stream=True),
                **self._timeout_for(call, options),
            )
            return self._first_events(call, raw.parse(), _checks.is_chat_content), raw.headers

        def open_stream() -> tuple[Any, Any, Any, Any, CallState]:
            (stream, events, first, watch), _ = self._run(call, send)
            return stream, events, first, watch, call

        parse = None if structured is None else functools.partial(structured_chat, model=structured)
        return ChatStream(open_stream, parse)

    def respond(
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

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.responses.with_raw_response.create(
                model=d.name, input=items, **options, **self._timeout_for(call, options)
            )
            return raw.parse(), raw.headers

        try:
            response, served = self._run(call, send)
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
    ) -> ResponseStream:
        """Stream a response: `with client.stream_respond(…) as s: for c in s: …`.

        Retries and failover happen only before the first text reaches you. Takes the same
        arguments as `respond()`; `s.result` holds the whole `ResponseResult` at the end.
        """
        options = respond_options(instructions, max_output_tokens, text_format, kwargs)
        items: Any = input if isinstance(input, str) else list(input)
        call, pinned = self._respond_call(model, options)

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.responses.with_raw_response.create(
                model=d.name,
                input=items,
                stream=True,
                **options,
                **self._timeout_for(call, options),
            )
            opened = self._first_events(call, raw.parse(), _is_response_content)
            last = opened[2][-1]
            if last.type in ("response.failed", "error"):
                opened[3].stop()
                opened[0].close()
                raise failed_event_error(last, raw.http_request)
            return opened, raw.headers

        def open_stream() -> tuple[Any, Any, Any, Any, CallState]:
            try:
                (stream, events, first, watch), _ = self._run(call, send)
            except AzureAIKitError as exc:
                explain_pinned(exc, pinned, options)
                raise
            return stream, events, first, watch, call

        return ResponseStream(
            open_stream,
            text_format=text_format,
            remember=functools.partial(self._remember, call, options),
        )

    def generate_image(
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

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.images.with_raw_response.generate(
                model=d.name,
                prompt=prompt,
                **image_options(d, options),
                **self._timeout_for(call, options),
            )
            return _checks.images(raw.parse()), raw.headers

        response, served = self._run(call, send)
        result = image_result(response, served)
        call.finish(None, None)
        if result.needs_download:
            assert call.deployment is not None
            endpoint = call.deployment.resource_endpoint

            def fetch(url: str) -> bytes:
                return self._download(url, endpoint)

            result = result.with_downloads(fetch)
        return result

    def embed(
        self, texts: str | Iterable[str], *, model: str | None = None, **kwargs: Any
    ) -> EmbeddingResult:
        """Embed one string or a list of strings; `result.vectors` is in input order.

        Other keyword arguments (`dimensions`, …) pass through to `openai`.
        """
        payload = embedding_input(texts)
        call = self._call(model, "embeddings", lambda: embedding_cost(payload))

        def send(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = client.embeddings.with_raw_response.create(
                model=d.name, input=payload, **kwargs, **self._timeout_for(call, kwargs)
            )
            count = 1 if isinstance(payload, str) else len(payload)
            return _checks.embeddings(raw.parse(), count), raw.headers

        response, served = self._run(call, send)
        result = embedding_result(response, served)
        call.finish(result.usage, result.model)
        return result

    def openai(self, model: str = "chat") -> OpenAIClient:
        """The configured `openai` client of `model`'s first candidate: an escape hatch.

        It has `max_retries=0` and no failover; pass `model=deployment.name` in its calls.
        """
        return cast(OpenAIClient, self._openai_for(self._candidates(model, "chat")[0][0]))

    # --- the retry loop -----------------------------------------------------------------------
    def _run(self, call: CallState, send: Send[T]) -> tuple[T, Served]:
        """One attempt per turn until one succeeds or the call gives up (see `CallState`)."""
        try:
            while True:
                deployment = call.choose()
                if deployment is not None:
                    try:
                        client = self._openai_for(deployment, call.operation)
                        value, headers = send(client, deployment)
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
                    self._sleep(wait)
        except BaseException as exc:
            call.ended(exc)  # however the call leaves the loop, its telemetry span ends
            raise

    def _first_events(
        self, call: CallState, stream: Any, is_content: Callable[[Any], bool]
    ) -> tuple[Any, Any, list[Any], Watch]:
        """Read a new stream up to its first content, inside the attempt, under a watch.

        A failure here, a stall, or a stream that ends with no content fails over like any
        other attempt; after it, the caller has seen text and the stream is theirs.
        """
        watch = Watch.start(stream, idle=self._timeout, remaining=call.remaining())
        events = iter(stream)
        first: list[Any] = []
        try:
            while not first or not is_content(first[-1]):
                event = next(events, None)
                if event is None:
                    raise MalformedResponse("the stream ended before any content")
                first.append(event)
        except BaseException as exc:
            watch.stop()
            stalled = watch.stalled()
            stream.close()
            if stalled is not None:
                raise stalled from exc
            raise
        return stream, events, first, watch

    def _download(self, url: str, endpoint: str) -> bytes:
        # The URL came from the network: check it first (docs/images.md). SAS URLs carry their
        # own authorisation; never send the key to blob storage. Redirects are not followed.
        shown = check_image_url(url, self._image_downloads, endpoint)
        limit = self._image_downloads.max_bytes
        data = bytearray()
        with quiet_query():
            try:
                with self._http.stream("GET", url, follow_redirects=False) as response:
                    if response.status_code != 200:
                        raise bad_status(shown, response.status_code)
                    if declared_size(response.headers) > limit:
                        raise too_large(shown, limit)
                    for chunk in response.iter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise too_large(shown, limit)
            except http_errors(self._http) as exc:
                raise download_failed(shown, exc) from redact_error(exc, url)
        return bytes(data)

    def close(self) -> None:
        """Close the HTTP client if the kit created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AzureAIClient:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _is_response_content(event: Any) -> bool:
    return event.type in FIRST_CONTENT
