"""The emulator core: configuration, state, routing, auth, faults, limits and the request log."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import (
    _chat,
    _embeddings,
    _errors,
    _faults,
    _images,
    _limits,
    _responses,
    _routing,
)
from ._faults import Fault
from ._limits import RateLimiter
from ._scripted import Reply
from ._scripting import Scripting
from ._stores import Stores
from ._wire import (
    Call,
    Delay,
    EmulatedDeployment,
    EmuRequest,
    Outcome,
    Part,
    Policy,
    RequestRecord,
    json_outcome,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["ENDPOINT", "Emulator"]

ENDPOINT = "https://emulator.openai.azure.com"
_Estimate = Callable[[dict[str, Any]], int]
_Respond = Callable[[Call], Outcome]
_HANDLERS: dict[str, tuple[_Estimate, _Respond]] = {
    "chat": (_chat.estimate, _chat.respond),
    "embedding": (_embeddings.estimate, _embeddings.respond),
    "image": (_images.estimate, _images.respond),
    "responses": (_responses.estimate, _responses.respond),
}
_OPERATION_IDS = {
    "chat": "ChatCompletions_Create",
    "embedding": "Embeddings_Create",
    "image": "ImageGenerations_Create",
    "responses": "Responses_Create",
}
#: The deployment kind each operation needs.
_KINDS = {"chat": "chat", "embedding": "embedding", "image": "image", "responses": "chat"}


class Emulator(Scripting):
    """A deterministic, in-memory model of an Azure OpenAI resource.

    Use :meth:`transport`/:meth:`async_transport` with ``httpx`` in tests (base URL
    :attr:`endpoint`), or :meth:`serve` for a loopback HTTP server.
    """

    def __init__(
        self,
        deployments: Iterable[EmulatedDeployment],
        *,
        api_key: str | None = "emulator-key",
        tokens: Iterable[str] = ("emulator-token",),
        region: str = "East US 2",
        blocked_words: Iterable[str] = ("forbidden-word",),
        completion_blocked_words: Iterable[str] = ("emulator-completion-block",),
        jailbreak_phrases: Iterable[str] = Policy.jailbreak_phrases,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        accept_any_credential: bool = False,
        log_size: int = 1000,
        stored_responses: int = 100,
        responses_limit_headers: Literal["sentinel", "counts"] = "sentinel",
    ) -> None:
        if isinstance(log_size, bool) or not isinstance(log_size, int) or log_size < 1:
            raise ValueError(
                f"log_size must be a positive number of requests to keep, not {log_size!r}"
            )
        if responses_limit_headers not in ("sentinel", "counts"):
            raise ValueError(
                "responses_limit_headers must be 'sentinel' (-1/0, as Azure's Responses API "
                f"sends) or 'counts', not {responses_limit_headers!r}"
            )
        self.deployments: dict[str, EmulatedDeployment] = {d.name: d for d in deployments}
        self.api_key = api_key
        self._tokens = tuple(tokens)
        #: Accept any non-empty key or bearer token (for docs and demos that show placeholders).
        self.accept_any_credential = accept_any_credential
        self.region = region
        self.policy = Policy(
            blocked_words=tuple(blocked_words),
            completion_blocked_words=tuple(completion_blocked_words),
            jailbreak_phrases=tuple(jailbreak_phrases),
        )
        self.clock = clock
        self.sleep = sleep
        self.async_sleep = async_sleep
        self._lock = threading.RLock()
        # A ring of recent requests: a long-running server must not grow without bound.
        self._log: deque[RequestRecord] = deque(maxlen=log_size)
        self._faults: dict[str, deque[Fault]] = {}
        self._replies: dict[str, deque[Reply]] = {}
        self._limiters: dict[str, RateLimiter] = {}
        # Images, prompt prefixes and Responses API answers (the last N per deployment).
        self._stores = Stores(stored_responses)
        #: What the Responses API's ``x-ratelimit-*`` headers say: ``"sentinel"`` is Azure's
        #: ``-1``/``0`` (and no ``retry-after`` on its 429s), ``"counts"`` the chat-style counts.
        self.responses_limit_headers = responses_limit_headers
        self._counter = 0

    def __repr__(self) -> str:
        return f"Emulator(deployments={sorted(self.deployments)!r}, region={self.region!r})"

    @classmethod
    def default(cls, **kwargs: Any) -> Emulator:
        """An emulator with the kit's default deployments and generous limits.

        Deployments (aliases): ``gpt-4o-mini`` (chat), ``gpt-4.1`` (code), ``o4-mini``
        (reasoning), ``dall-e-3`` (image), ``gpt-image-1``, ``text-embedding-3-small``
        (embedding).
        """
        deployments = [
            EmulatedDeployment("gpt-4o-mini", kind="chat", model="gpt-4o-mini", aliases=("chat",)),
            EmulatedDeployment("gpt-4.1", kind="chat", model="gpt-4.1", aliases=("code",)),
            EmulatedDeployment("o4-mini", kind="chat", model="o4-mini", aliases=("reasoning",)),
            EmulatedDeployment("dall-e-3", kind="image", model="dall-e-3", aliases=("image",)),
            EmulatedDeployment("gpt-image-1", kind="image", model="gpt-image-1"),
            EmulatedDeployment(
                "text-embedding-3-small",
                kind="embedding",
                model="text-embedding-3-small",
                aliases=("embedding",),
            ),
        ]
        return cls(deployments, **kwargs)

    @classmethod
    def from_toml(cls, path: str | Path, **kwargs: Any) -> Emulator:
        """Load deployments, ``api_key``, ``tokens``, ``region`` and ``blocked_words`` from TOML.

        Keys may sit at the top level or under an ``[emulator]`` table; deployments are
        ``[[deployments]]`` tables with the fields of :class:`EmulatedDeployment`.
        """
        from ._config import load_toml

        config = load_toml(Path(path))
        return cls(**{**config, **kwargs})

    @property
    def endpoint(self) -> str:
        """The base URL to use with the in-process transports."""
        return ENDPOINT

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first: the last ``log_size`` requests."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """Clear the request log, scripted faults and replies, rate-limit state, served images
        and stored responses."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._replies.clear()
            self._limiters.clear()
            self._stores.clear()

    def transport(self) -> httpx.BaseTransport:
        """An in-process ``httpx`` transport (no sockets) over this emulator."""
        from ._transport import EmulatorTransport

        return EmulatorTransport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """The async twin of :meth:`transport`."""
        from ._transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self)

    def serve(self, port: int = 0) -> AbstractContextManager[str]:
        """Serve over HTTP on 127.0.0.1 in a background thread; yields the base URL."""
        from ._server import serve

        return serve(self, port=port)

    # -- the core -------------------------------------------------------------------------------

    def handle(self, request: EmuRequest) -> Outcome:
        """Answer one request. Pure bookkeeping; waiting is left to the door (``Delay`` parts)."""
        with self._lock:
            self._counter += 1
            request_id = str(uuid.UUID(int=self._counter, version=4))
            ctx: dict[str, Any] = {
                "deployment": None,
                "operation": None,
                "auth": None,
                "fault": None,
            }
            try:
                body: Any = json.loads(request.body) if request.body else None
            except ValueError:
                body = None
            outcome = self._dispatch(request, request_id, ctx)
            outcome.headers.update(
                {
                    "apim-request-id": request_id,
                    "x-request-id": request_id,
                    "x-ms-region": self.region,
                    "content-type": outcome.content_type,
                }
            )
            self._log.append(
                RequestRecord(
                    method=request.method,
                    path=request.path,
                    deployment=ctx["deployment"],
                    operation=ctx["operation"],
                    api_version=request.query.get("api-version"),
                    status=outcome.status,
                    auth=ctx["auth"],
                    body=body,
                    fault=ctx["fault"],
                )
            )
            return outcome

    def _dispatch(self, request: EmuRequest, request_id: str, ctx: dict[str, Any]) -> Outcome:
        route = _routing.match(request.method, request.path)
        if route is None:
            return json_outcome(404, _errors.resource_not_found())
        if route.kind == "image":
            image = self._stores.image(route.image_id or "")
            if image is None:
                return json_outcome(404, _errors.resource_not_found())
            return Outcome(200, [image], content_type="image/png")
        ctx["operation"] = route.operation
        version = request.query.get("api-version")
        refused = _routing.version_error(route, version)
        if refused is not None:
            return json_outcome(*refused)
        ctx["auth"] = _routing.authenticate(request.headers, self.api_key, self._tokens)
        if ctx["auth"] is None and self.accept_any_credential:
            ctx["auth"] = _routing.any_credential(request.headers)
        if ctx["auth"] is None:
            # A rejected bearer token is refused by the gateway, in its own bare body shape.
            bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
            token = bearer and "api-key" not in request.headers
            return json_outcome(401, _errors.unauthorized(token=token))
        if route.response_id is not None:
            return self._stored_response(route.response_id, ctx)
        try:
            body = json.loads(request.body)
        except ValueError:
            message = (
                "We could not parse the JSON body of your request. The API expects a JSON payload."
            )
            return json_outcome(400, _errors.bad_request(message))
        if not isinstance(body, dict):
            return json_outcome(400, _errors.bad_request("The request body must be a JSON object."))
        name = route.deployment or body.get("model")
        if not isinstance(name, str) or not name:
            message = "you must provide a model parameter"
            return json_outcome(400, _errors.bad_request(message, param="model"))
        ctx["deployment"] = name
        return self._admitted(
            name, route.operation or "chat", body, version or "v1", request, request_id, ctx
        )

    def _admitted(
        self,
        name: str,
        operation: str,
        body: dict[str, Any],
        version: str,
        request: EmuRequest,
        request_id: str,
        ctx: dict[str, Any],
    ) -> Outcome:
        queue = self._faults.get(name)
        fault = queue.popleft() if queue else None
        deployment = self.deployments.get(name)
        lead: list[Part] = []
        streamed = body.get("stream") is True
        if fault is not None:
            ctx["fault"] = fault.kind if fault.status is None else f"{fault.kind}:{fault.status}"
            if fault.delay > 0:
                lead.append(Delay(fault.delay))
            faulted = _faults.outcome(fault, streamed=streamed)
            if faulted is not None:
                faulted.parts[:0] = lead
                if deployment is not None:
                    requests_left, tokens_left = self._limiter(deployment).peek()
                    headers = self._limit_headers(operation, deployment, requests_left, tokens_left)
                    faulted.headers = {**headers, **faulted.headers}
                return faulted
        if deployment is None:
            return json_outcome(404, _errors.deployment_not_found())
        if deployment.kind != _KINDS[operation]:
            error = _errors.operation_not_supported(operation, deployment.model_name)
            return json_outcome(400, error)
        estimate, respond = _HANDLERS[operation]
        admission = self._limiter(deployment).admit(estimate(body))
        limit_headers = self._limit_headers(
            operation, deployment, admission.remaining_requests, admission.remaining_tokens
        )
        if not admission.allowed:
            # Rounding first keeps float drift (0.6000000001 s) from adding a whole unit.
            seconds = max(1, math.ceil(round(admission.retry_after, 6)))
            if not self._sentinel_headers(operation):
                limit_headers["retry-after"] = str(seconds)
                limit_headers["retry-after-ms"] = str(
                    math.ceil(round(admission.retry_after * 1000, 3))
                )
            throttled = _errors.rate_limited(
                _OPERATION_IDS[operation], version, seconds, tokens=admission.by_tokens
            )
            return json_outcome(429, throttled, limit_headers)
        replies = self._replies.get(name) if _KINDS[operation] == "chat" else None
        stream_error = fault.event if fault is not None and fault.kind == "stream_error" else None
        scripted = replies[0] if replies else None
        call = Call(
            deployment=deployment,
            body=body,
            api_version=version,
            origin=request.origin,
            policy=self.policy,
            request_id=request_id,
            created=int(time.time()),
            store_image=self._stores.store_image,
            remember_prefix=self._stores.remember_prefix,
            scripted=None if scripted is None else scripted.resolve(body),
            recall_response=self._stores.recall_response,
            keep_response=self._stores.keep_response,
            stream_error=stream_error if operation == "responses" else None,
        )
        outcome = respond(call)
        if scripted is not None and replies and outcome.status == 200:
            # A refused request (400…) leaves the reply for the next one.
            scripted.used += 1
            if scripted.times is not None and scripted.used >= scripted.times:
                replies.popleft()
        outcome.headers.update(limit_headers)
        outcome.parts[:0] = lead
        if fault is not None and fault.kind == "truncate":
            _faults.truncate(outcome)
        if stream_error is not None and operation != "responses" and outcome.stream:
            _faults.break_chat_stream(outcome)
        return outcome

    def _sentinel_headers(self, operation: str) -> bool:
        return operation == "responses" and self.responses_limit_headers == "sentinel"

    def _limit_headers(
        self, operation: str, deployment: EmulatedDeployment, requests: int, tokens: int
    ) -> dict[str, str]:
        if self._sentinel_headers(operation):
            return dict(_limits.SENTINEL_HEADERS)
        return _limits.limit_headers(deployment, requests, tokens)

    def _stored_response(self, response_id: str, ctx: dict[str, Any]) -> Outcome:
        stored = self._stores.recall_response(response_id)
        if stored is None:
            return json_outcome(404, _errors.response_not_found(response_id))
        ctx["deployment"] = stored.deployment
        return json_outcome(200, stored.body)

    def _limiter(self, deployment: EmulatedDeployment) -> RateLimiter:
        limiter = self._limiters.get(deployment.name)
        if limiter is None:
            limiter = RateLimiter(deployment.tpm, deployment.rpm, self.clock)
            self._limiters[deployment.name] = limiter
        return limiter
