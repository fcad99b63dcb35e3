"""The emulator core: configuration, state, routing, auth, faults, limits and the request log."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _chat, _embeddings, _errors, _faults, _images, _limits, _routing, _versions
from ._faults import Fault
from ._limits import RateLimiter
from ._scripted import Answer, Reply
from ._wire import (
    DROP,
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
}
_OPERATION_IDS = {
    "chat": "ChatCompletions_Create",
    "embedding": "Embeddings_Create",
    "image": "ImageGenerations_Create",
}
_MAX_STORED_IMAGES = 256
_MAX_PREFIXES = 4096


class Emulator:
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
    ) -> None:
        if isinstance(log_size, bool) or not isinstance(log_size, int) or log_size < 1:
            raise ValueError(
                f"log_size must be a positive number of requests to keep, not {log_size!r}"
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
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._prefixes: OrderedDict[str, None] = OrderedDict()
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

    def script(self, deployment: str, fault: Fault, times: int = 1) -> None:
        """Queue *fault* for the next *times* requests to *deployment* (consumed in order)."""
        with self._lock:
            self._faults.setdefault(deployment, deque()).extend([fault] * times)

    def reply(
        self,
        deployment: str,
        answer: Answer | Callable[[dict[str, Any]], Answer],
        *,
        times: int | None = 1,
    ) -> Reply:
        """Answer the next *times* chat requests to *deployment* (a name or an alias) with *answer*.

        *answer* is the reply text, a JSON object (sent as its JSON text), a :class:`ToolCall`,
        or a callable that takes the request body and returns one of those. ``times=None``
        keeps answering until :meth:`clear_replies` or :meth:`reset`. Streams stream the
        scripted text. Replies queue in order; scripted faults come first. Returns the queued
        :class:`Reply` (its ``used`` counts the requests it answered).
        """
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError(f"times must be a positive count or None (forever), not {times!r}")
        name = self._deployment_name(deployment)
        queued = Reply(answer, times)
        with self._lock:
            self._replies.setdefault(name, deque()).append(queued)
        return queued

    @contextmanager
    def replying(
        self,
        deployment: str,
        answer: Answer | Callable[[dict[str, Any]], Answer],
        *,
        times: int | None = None,
    ) -> Iterator[Reply]:
        """:meth:`reply` for the duration of a ``with`` block (by default to every request)."""
        queued = self.reply(deployment, answer, times=times)
        try:
            yield queued
        finally:
            with self._lock:
                queue = self._replies.get(self._deployment_name(deployment))
                if queue is not None and queued in queue:
                    queue.remove(queued)

    def clear_replies(self) -> None:
        """Drop every scripted reply (a fixture calls this between tests)."""
        with self._lock:
            self._replies.clear()

    def _deployment_name(self, deployment: str) -> str:
        if deployment in self.deployments:
            return deployment
        for d in self.deployments.values():
            if deployment in d.aliases:
                return d.name
        known = sorted(
            {*self.deployments, *(a for d in self.deployments.values() for a in d.aliases)}
        )
        raise ValueError(f"unknown deployment or alias {deployment!r}; known: {', '.join(known)}")

    def reset(self) -> None:
        """Clear the request log, scripted faults and replies, rate-limit state, served images."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._replies.clear()
            self._limiters.clear()
            self._images.clear()
            self._prefixes.clear()

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
            image = self._images.get(route.image_id or "")
            if image is None:
                return json_outcome(404, _errors.resource_not_found())
            return Outcome(200, [image], content_type="image/png")
        ctx["operation"] = route.operation
        version = request.query.get("api-version")
        if route.kind == "classic":
            if version is None:
                return json_outcome(404, _errors.resource_not_found())
            if not _versions.is_known_version(version):
                return json_outcome(400, _errors.api_version_unsupported())
        elif version is not None and version not in _versions.V1_VERSIONS:
            return json_outcome(400, _errors.api_version_unsupported())
        ctx["auth"] = _routing.authenticate(request.headers, self.api_key, self._tokens)
        if ctx["auth"] is None and self.accept_any_credential:
            ctx["auth"] = _routing.any_credential(request.headers)
        if ctx["auth"] is None:
            # A rejected bearer token is refused by the gateway, in its own bare body shape.
            bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
            token = bearer and "api-key" not in request.headers
            return json_outcome(401, _errors.unauthorized(token=token))
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
        if fault is not None:
            ctx["fault"] = fault.kind if fault.status is None else f"{fault.kind}:{fault.status}"
            if fault.delay > 0:
                lead.append(Delay(fault.delay))
            faulted = self._fault_outcome(fault)
            if faulted is not None:
                faulted.parts[:0] = lead
                if deployment is not None:
                    requests_left, tokens_left = self._limiter(deployment).peek()
                    headers = _limits.limit_headers(deployment, requests_left, tokens_left)
                    faulted.headers = {**headers, **faulted.headers}
                return faulted
        if deployment is None:
            return json_outcome(404, _errors.deployment_not_found())
        if deployment.kind != operation:
            error = _errors.operation_not_supported(operation, deployment.model_name)
            return json_outcome(400, error)
        estimate, respond = _HANDLERS[operation]
        admission = self._limiter(deployment).admit(estimate(body))
        limit_headers = _limits.limit_headers(
            deployment, admission.remaining_requests, admission.remaining_tokens
        )
        if not admission.allowed:
            # Rounding first keeps float drift (0.6000000001 s) from adding a whole unit.
            seconds = max(1, math.ceil(round(admission.retry_after, 6)))
            limit_headers["retry-after"] = str(seconds)
            limit_headers["retry-after-ms"] = str(math.ceil(round(admission.retry_after * 1000, 3)))
            throttled = _errors.rate_limited(
                _OPERATION_IDS[operation], version, seconds, tokens=admission.by_tokens
            )
            return json_outcome(429, throttled, limit_headers)
        replies = self._replies.get(name) if operation == "chat" else None
        scripted = replies[0] if replies else None
        call = Call(
            deployment=deployment,
            body=body,
            api_version=version,
            origin=request.origin,
            policy=self.policy,
            request_id=request_id,
            created=int(time.time()),
            store_image=self._store_image,
            remember_prefix=self._remember_prefix,
            scripted=None if scripted is None else scripted.resolve(body),
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
        return outcome

    def _limiter(self, deployment: EmulatedDeployment) -> RateLimiter:
        limiter = self._limiters.get(deployment.name)
        if limiter is None:
            limiter = RateLimiter(deployment.tpm, deployment.rpm, self.clock)
            self._limiters[deployment.name] = limiter
        return limiter

    def _fault_outcome(self, fault: Fault) -> Outcome | None:
        if fault.kind == "drop":
            return Outcome(200, [DROP])
        if fault.kind == "malformed":
            return Outcome(200, [b'{"id": "chatcmpl-emulated", "choices": [{"index": 0, "mess'])
        if fault.kind == "status" and fault.status is not None:
            body = fault.body if fault.body is not None else _faults.default_body(fault.status)
            if isinstance(body, str):
                return Outcome(
                    fault.status, [body.encode("utf-8")], dict(fault.headers), "text/plain"
                )
            return json_outcome(fault.status, body, fault.headers)
        return None

    def _remember_prefix(self, key: str) -> bool:
        seen = key in self._prefixes
        self._prefixes[key] = None
        self._prefixes.move_to_end(key)
        while len(self._prefixes) > _MAX_PREFIXES:
            self._prefixes.popitem(last=False)
        return seen

    def _store_image(self, image_id: str, data: bytes) -> None:
        self._images[image_id] = data
        self._images.move_to_end(image_id)
        while len(self._images) > _MAX_STORED_IMAGES:
            self._images.popitem(last=False)
