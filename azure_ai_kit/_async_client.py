"""`AsyncAzureAIClient`: the asyncio twin of `AzureAIClient`, same methods, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import httpx
import openai
import tenacity

from ._call import CallState, Served
from ._core import (
    ClientBase,
    build_messages,
    chat_result,
    embedding_input,
    embedding_result,
    emulator_config,
    env_config,
    image_result,
    wants_usage_chunk,
)
from ._deployment import Deployment
from ._errors_map import ATTEMPT_ERRORS, completion_filtered, download_failed
from ._exceptions import AzureAIKitError
from ._results import ChatResult, EmbeddingResult, ImageResult
from ._retry import RetryPolicy
from ._streams import AsyncChatStream, Opened

__all__ = ["AsyncAzureAIClient"]

T = TypeVar("T")
OpenAIClient = openai.AsyncAzureOpenAI | openai.AsyncOpenAI


class AsyncAzureAIClient(ClientBase):
    """The asyncio twin of `AzureAIClient`: the same arguments and methods, awaited.

    Pass `endpoint=` with a `deployments={"chat": "<deployment>", …}` mapping for one resource,
    or `deployments=[Deployment(…), …]` for a pool. `credential` is an API key, an
    `AzureKeyCredential`, or an azure-identity credential. `http_client=` lets you bring your
    own `httpx.AsyncClient` (the kit never closes one you pass). `clock`/`sleep` are for tests.
    """

    _asynchronous = True

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        deployments: Mapping[str, str] | Sequence[Deployment] | None = None,
        api_version: str | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            endpoint,
            credential,
            deployments=deployments,
            api_version=api_version,
            retry=retry,
            timeout=timeout,
            clock=clock,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=False
        )
        self._sleep = sleep
        self._openai: dict[int, OpenAIClient] = {}

    @classmethod
    def from_env(
        cls, *, fallback: Literal["emulator"] | None = None, **kwargs: Any
    ) -> AsyncAzureAIClient:
        """Build a client from `AZURE_OPENAI_*` variables, a `.env` file, or `AZURE_AI_KIT_CONFIG`.

        With no key set, authenticates with `DefaultAzureCredential` (Entra ID). Keyword
        arguments override what the environment says (e.g. `http_client=`, `retry=`).
        `fallback="emulator"` uses the local emulator when no endpoint is configured, with a
        notice on stderr (for samples and demos; the default is to raise `ConfigurationError`).
        """
        return cls._owning(env_config(asynchronous=True, fallback=fallback), kwargs)

    @classmethod
    def for_emulator(cls, emulator: Any = None, **kwargs: Any) -> AsyncAzureAIClient:
        """A client wired to an in-process emulator (`azure_ai_kit.emulator`; default if None)."""
        return cls._owning(emulator_config(emulator, asynchronous=True), kwargs)

    @classmethod
    def _owning(cls, config: dict[str, Any], overrides: dict[str, Any]) -> AsyncAzureAIClient:
        # An http_client the kit built for this client is the client's to close.
        client = cls(**{**config, **overrides})
        client._owns_http = "http_client" not in overrides
        return client

    # --- calls --------------------------------------------------------------------------------
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
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        candidates, label = self._candidates(model, "chat")

        async def attempt(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name, messages=messages, **kwargs
            )
            return raw.parse(), raw.headers

        completion, served, call = await self._run(candidates, label, "chat", attempt)
        result = chat_result(completion, served, call.attempts)
        call.finish(result)
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
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        candidates, label = self._candidates(model, "chat")

        async def attempt(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            extra = dict(kwargs)
            if "stream_options" not in extra and wants_usage_chunk(d):
                extra["stream_options"] = {"include_usage": True}
            raw = await client.chat.completions.with_raw_response.create(
                model=d.name, messages=messages, stream=True, **extra
            )
            stream = raw.parse()
            try:
                # Reading the first chunk inside the attempt lets a failure here fail over.
                first = await anext(aiter(stream), None)
            except BaseException:
                await stream.close()
                raise
            return (stream, first), raw.headers

        async def open_stream() -> Opened:
            (stream, first), served, call = await self._run(candidates, label, "chat", attempt)
            return stream, first, served, call

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

        Asks for `b64_json` unless you pass `response_format`; other keyword arguments
        (`quality`, `style`, `output_format`, …) pass through to `openai`.
        """
        for key, value in (("size", size), ("n", n)):
            if value is not None:
                kwargs[key] = value
        candidates, label = self._candidates(model, "image")

        async def attempt(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            extra = dict(kwargs)
            if "response_format" not in extra and "dall-e" in (d.model or d.name).lower():
                extra["response_format"] = "b64_json"
            raw = await client.images.with_raw_response.generate(
                model=d.name, prompt=prompt, **extra
            )
            return raw.parse(), raw.headers

        response, served, call = await self._run(candidates, label, "image_generation", attempt)
        result = image_result(response, served, call.attempts)
        call.finish(result)
        return (
            await result.with_downloads_async(self._download) if result.needs_download else result
        )

    async def embed(
        self, texts: str | Iterable[str], *, model: str | None = None, **kwargs: Any
    ) -> EmbeddingResult:
        """Embed one string or a list of strings; `result.vectors` is in input order.

        Other keyword arguments (`dimensions`, …) pass through to `openai`.
        """
        payload = embedding_input(texts)
        candidates, label = self._candidates(model, "embedding")

        async def attempt(client: OpenAIClient, d: Deployment) -> tuple[Any, Mapping[str, str]]:
            raw = await client.embeddings.with_raw_response.create(
                model=d.name, input=payload, **kwargs
            )
            return raw.parse(), raw.headers

        response, served, call = await self._run(candidates, label, "embeddings", attempt)
        result = embedding_result(response, served, call.attempts)
        call.finish(result)
        return result

    def openai(self, model: str = "chat") -> OpenAIClient:
        """The configured `openai` client of `model`'s first candidate: an escape hatch.

        It has `max_retries=0` and no failover; pass `model=deployment.name` in its calls.
        """
        candidates, _ = self._candidates(model, "chat")
        return self._openai_for(candidates[0])

    # --- plumbing -----------------------------------------------------------------------------
    async def _run(
        self,
        candidates: list[Deployment],
        label: str,
        operation: str,
        attempt: Callable[[OpenAIClient, Deployment], Awaitable[tuple[T, Mapping[str, str]]]],
    ) -> tuple[T, Served, CallState[T]]:
        call: CallState[T] = CallState(self, candidates, label, operation)
        try:
            try:
                # Most calls succeed at once: the first attempt runs without the retry
                # machinery, which then costs nothing. Every retry goes through tenacity.
                return await self._once(call, attempt)
            except AzureAIKitError:
                wait = call.prepare_retry()
                if wait is None:
                    raise
            await self._pause(wait)
            # tenacity's sync loop, its sleeps handed to us to await (Retrying asks for the
            # sleep just before it yields the next attempt): the same policy as the sync twin.
            waits: list[float] = []
            retrying = tenacity.Retrying(
                retry=call.should_retry,
                wait=call.next_wait,
                stop=call.should_stop,
                sleep=waits.append,
                reraise=True,
            )
            for try_ in retrying:
                if waits:
                    await self._pause(waits.pop())
                with try_:
                    return await self._once(call, attempt)
        except AzureAIKitError as exc:
            raise call.final(exc) from exc.__cause__
        raise AssertionError("unreachable: tenacity always returns or raises")  # pragma: no cover

    async def _once(
        self,
        call: CallState[T],
        attempt: Callable[[OpenAIClient, Deployment], Awaitable[tuple[T, Mapping[str, str]]]],
    ) -> tuple[T, Served, CallState[T]]:
        deployment = call.begin()
        try:
            value, headers = await attempt(self._openai_for(deployment), deployment)
        except ATTEMPT_ERRORS as exc:
            raise call.failed(deployment, exc) from exc
        served = Served(deployment, headers)
        call.succeeded(served)
        return value, served, call

    async def _pause(self, seconds: float) -> None:
        # Failover is immediate: tenacity asks for a 0 s wait, which needs no sleep.
        if seconds > 0:
            await self._sleep(seconds)

    async def _download(self, url: str) -> bytes:
        # SAS URLs carry their own authorisation; never send the key to blob storage.
        try:
            response = await self._http.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise download_failed(url, exc) from exc
        return response.content

    def _openai_for(self, deployment: Deployment) -> OpenAIClient:
        client = self._openai.get(id(deployment))
        if client is None:
            client = self._build_openai(deployment)
            self._openai[id(deployment)] = client
        return client

    def _build_openai(self, d: Deployment) -> OpenAIClient:
        auth = self._auth_for(d)
        # openai 3.x is typed for httpx2 but accepts a legacy httpx client at runtime.
        http = cast(Any, self._http)
        if d.is_v1:
            key = (
                auth.async_openai_key()
                if auth.token is None
                else cast(Callable[[], Awaitable[str]], auth.token)
            )
            return openai.AsyncOpenAI(
                base_url=f"{d.resource_endpoint}/openai/v1/",
                api_key=key,
                http_client=http,
                max_retries=0,
                timeout=self._timeout,
            )
        if auth.kind == "token":
            return openai.AsyncAzureOpenAI(
                azure_endpoint=d.resource_endpoint,
                api_version=d.effective_api_version,
                azure_ad_token_provider=cast(Callable[[], Awaitable[str]], auth.token),
                http_client=http,
                max_retries=0,
                timeout=self._timeout,
            )
        return openai.AsyncAzureOpenAI(
            azure_endpoint=d.resource_endpoint,
            api_version=d.effective_api_version,
            api_key=auth.async_openai_key(),
            http_client=http,
            max_retries=0,
            timeout=self._timeout,
        )

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
