"""What both client twins share and that does no I/O: configuration, deployment resolution,
request shaping, and the cache of `openai` clients. The twins add only the awaits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from ._auth import Auth, make_auth
from ._call import CallState
from ._deployment import Deployment, resolve
from ._endpoint import ALIASES, check_endpoint
from ._exceptions import ConfigurationError, InvalidRequestError
from ._pacing import Pacer
from ._responses import ResponseHomes, ResponseResult
from ._retry import RetryPolicy
from ._routing import PoolStatus, Router
from ._state import StateStore, make_store
from ._usage import Price, UsageLedger, UsageReport

__all__ = [
    "ClientBase",
    "build_messages",
    "chat_options",
    "embedding_input",
    "image_options",
    "image_prompt",
    "request_options",
]

C = TypeVar("C", bound="ClientBase")

#: `model=` defaults per operation.
DEFAULT_ALIAS = {"chat": "chat", "image": "image", "embedding": "embedding", "responses": "chat"}


# --- request shaping: pure functions of the arguments and the chosen deployment -------------
def build_messages(prompt: str | Sequence[Mapping[str, Any]], system: str | None) -> list[Any]:
    """A prompt string becomes one user message; a list is used as given. `system` goes first.

    Raises `InvalidRequestError` for anything else (a dict, bytes, a list of strings, …).
    """
    if isinstance(prompt, str):
        messages: list[Any] = [{"role": "user", "content": prompt}]
    elif type(prompt) is not list and isinstance(prompt, (bytes, bytearray, memoryview)):
        raise InvalidRequestError(
            "prompt is bytes; decode it first, e.g. chat(data.decode('utf-8'))"
        )
    elif type(prompt) is not list and isinstance(prompt, Mapping):  # a list: no ABC checks
        raise InvalidRequestError(
            "prompt is a single message dict; pass a list of messages, e.g. "
            "chat([{'role': 'user', 'content': '…'}]), or the text as a string"
        )
    elif type(prompt) is not list and not isinstance(prompt, Sequence):
        raise InvalidRequestError(
            f"prompt must be a string or a list of messages; got {type(prompt).__name__}"
        )
    else:
        messages = list(prompt)
        if not messages:
            raise InvalidRequestError(
                "messages is empty; pass a prompt string or at least one message"
            )
        for index, message in enumerate(messages):
            if type(message) is dict:  # the common case, spared the ABC check below
                continue
            if not isinstance(message, Mapping) and not hasattr(message, "model_dump"):
                raise InvalidRequestError(
                    f"messages[{index}] is a {type(message).__name__}, not a message; each "
                    "message is a dict like {'role': 'user', 'content': '…'} (or pass one "
                    "prompt string)"
                )
    if system is not None:
        if not isinstance(system, str):
            raise InvalidRequestError(
                f"system= must be a string (the system prompt); got {type(system).__name__}"
            )
        messages.insert(0, {"role": "system", "content": system})
    return messages


#: Options that count something: a positive integer or nothing.
_COUNTS = ("max_tokens", "max_completion_tokens", "n")


def request_options(operation: str, kwargs: Mapping[str, Any], **named: Any) -> dict[str, Any]:
    """The options a call passes on to `openai`: the named ones given (not None), then `kwargs`.

    Checked before any request: counts (`max_tokens`, `n`, …) are positive integers, and
    `chat()` refuses `stream=True` (that is `stream_chat()`). Raises `InvalidRequestError`.
    """
    options = dict(kwargs)
    for name, value in named.items():
        if value is not None:
            options.setdefault(name, value)  # an explicit keyword argument wins
    if not options:  # the common case: nothing to check
        return options
    if operation == "chat" and options.get("stream"):
        raise InvalidRequestError(
            "chat() does not stream; use client.stream_chat(…) and iterate over it"
        )
    for name in _COUNTS:
        value = options.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise InvalidRequestError(f"{name}= must be a positive integer; got {value!r}")
    return options


def image_prompt(prompt: Any) -> str:
    """The prompt of an image generation: a non-empty string, or `InvalidRequestError`."""
    if not isinstance(prompt, str) or not prompt.strip():
        got = "an empty string" if isinstance(prompt, str) else type(prompt).__name__
        raise InvalidRequestError(
            f"generate_image() takes the picture's description as a string; got {got}"
        )
    return prompt


def accepts_new_parameters(version: str | None) -> bool:
    """`stream_options` and `max_completion_tokens` exist on v1 (`None`) and on every dated
    version from 2024-09-01-preview on, 2024-10-21 GA included (docs/wire.md)."""
    return version is None or version[:10] >= "2024-09-01"


#: What a reasoning model refuses other than at its default (docs/wire.md, "Reasoning models").
_REASONING_DEFAULTS = {"temperature": 1, "top_p": 1}


def chat_options(
    deployment: Deployment,
    kwargs: dict[str, Any],
    *,
    stream: bool,
    completion_tokens: bool = False,
) -> dict[str, Any]:
    """The keyword arguments `openai`'s `chat.completions.create` gets for this deployment.

    - `max_tokens` is sent as `max_completion_tokens` where the route accepts it, and always
      to a reasoning model (which refuses `max_tokens`) or when `completion_tokens` says this
      deployment asked for it;
    - a stream asks for its usage chunk where the route has `stream_options`;
    - a reasoning model's refused parameters fail here, naming the deployment.
    """
    version = deployment.api_version_for("chat")
    options = dict(kwargs)
    if deployment.reasoning:
        for name, default in _REASONING_DEFAULTS.items():
            if options.get(name) not in (None, default):
                raise ConfigurationError(
                    f"deployment {deployment.id} runs the reasoning model "
                    f"{deployment.model or deployment.name}, which accepts only the default "
                    f"{name} ({default}); drop {name}= or send this call to another deployment"
                )
    if "max_tokens" in options and (
        accepts_new_parameters(version) or deployment.reasoning or completion_tokens
    ):
        options["max_completion_tokens"] = options.pop("max_tokens")
    if stream:
        options["stream"] = True
        if "stream_options" not in options and accepts_new_parameters(version):
            options["stream_options"] = {"include_usage": True}
    return options


def image_options(deployment: Deployment, kwargs: dict[str, Any]) -> dict[str, Any]:
    """dall-e answers with a URL by default; ask for the bytes so no download is needed.

    gpt-image-1 always answers with bytes and refuses `response_format` (docs/wire.md).
    """
    if (
        "response_format" not in kwargs
        and "dall-e" in (deployment.model or deployment.name).lower()
    ):
        return {**kwargs, "response_format": "b64_json"}
    return kwargs


def embedding_input(texts: str | Iterable[str]) -> str | list[str]:
    """Validate embedding input: a string or a non-empty list of strings."""
    if isinstance(texts, str):
        return texts
    if isinstance(texts, (bytes, bytearray, Mapping)) or not isinstance(texts, Iterable):
        raise InvalidRequestError(
            f"embed() takes a string or a non-empty list of strings; got {type(texts).__name__}"
        )
    items = list(texts)
    if not items or not all(isinstance(t, str) for t in items):
        raise InvalidRequestError("embed() takes a string or a non-empty list of strings")
    return items


class ClientBase:
    """Everything the twins share that does no I/O."""

    _asynchronous = False
    #: The `openai` client classes for the v1 API and the classic one (set by each twin).
    _openai_v1: Any
    _openai_classic: Any

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        deployments: Mapping[str, str] | Sequence[Deployment] | None = None,
        api_version: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        state: str | StateStore | None = None,
    ) -> None:
        self._deployments = _build_deployments(endpoint, deployments, api_version)
        self._credential = credential
        self._auths: dict[int, Auth] = {}
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._clock = clock
        self._router = Router(
            self._deployments,
            clock=clock,
            broken_for=self._retry.broken_for,
            backoff=self._retry.backoff,
        )
        self._ledger = UsageLedger()
        self._homes = ResponseHomes()  # response id → the deployment that stores it
        # Quota buckets and (in a shared store) cooldowns: admission in front of the Router.
        self._store = make_store(state, clock)
        self._pacer = Pacer(self._deployments, self._store)
        self._resolved: dict[str, list[Deployment]] = {}
        self._openai_clients: dict[tuple[Any, ...], Any] = {}
        # Deployments of unknown model that answered "use max_completion_tokens" once.
        self._completion_tokens: set[Deployment] = set()
        self._http: Any = None
        self._owns_http = True
        if credential is not None:
            make_auth(credential, asynchronous=self._asynchronous)  # fail fast on a bad type
        for d in self._deployments:
            if credential is None and d.credential is None:
                raise ConfigurationError(
                    f"no credential for deployment {d.id}; pass credential= (an API key, "
                    "AzureKeyCredential or DefaultAzureCredential()) or use from_env()"
                )

    # --- constructors ---------------------------------------------------------------------------
    @classmethod
    def from_env(cls: type[C], *, fallback: Literal["emulator"] | None = None, **kwargs: Any) -> C:
        """Build a client from `AZURE_OPENAI_*` variables, a `.env` file, or `AZURE_AI_KIT_CONFIG`.

        With no key set, authenticates with `DefaultAzureCredential` (Entra ID). Keyword
        arguments override what the environment says (e.g. `http_client=`, `retry=`).
        `fallback="emulator"` uses the local emulator when no endpoint is configured, with a
        notice on stderr (for samples and demos; the default is to raise `ConfigurationError`).
        """
        from ._settings import env_config

        return cls._owning(env_config(asynchronous=cls._asynchronous, fallback=fallback), kwargs)

    @classmethod
    def for_emulator(cls: type[C], emulator: Any = None, **kwargs: Any) -> C:
        """A client wired to an in-process emulator (`azure_ai_kit.emulator`; default if None)."""
        from .emulator import client_config

        return cls._owning(client_config(emulator, asynchronous=cls._asynchronous), kwargs)

    @classmethod
    def _owning(cls: type[C], config: dict[str, Any], overrides: dict[str, Any]) -> C:
        # An http_client the kit built for this client is the client's to close.
        client = cls(**{**config, **overrides})
        client._owns_http = "http_client" not in overrides
        return client

    # --- state --------------------------------------------------------------------------------
    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """Every configured deployment, in configuration order."""
        return tuple(self._deployments)

    def status(self) -> PoolStatus:
        """Each deployment's state (healthy / cooling until T / broken), last error and quota.

        A list of `DeploymentStatus`; `print(client.status())` shows it as a table.
        """
        return self._router.status()

    def usage(self, prices: Mapping[str, Price] | None = None) -> UsageReport:
        """Calls and tokens per deployment and alias since this client started.

        `prices` maps a deployment name (or `name@host`) to a `Price` per 1K input/output
        tokens (cached input at its own rate when the price gives one); the report then
        carries an estimated cost.
        """
        return self._ledger.report(prices)

    # --- one call -------------------------------------------------------------------------------
    def _call(
        self,
        model: str | None,
        operation: str,
        cost: int | Callable[[], int] = 0,
        *,
        pinned: Deployment | None = None,
    ) -> CallState:
        method = "image" if operation == "image_generation" else operation
        if method == "embeddings":
            method = "embedding"
        candidates, label = self._candidates(model, method)
        if pinned is not None:
            candidates = [pinned]
        return CallState(
            candidates,
            label,
            operation,
            router=self._router,
            policy=self._retry,
            clock=self._clock,
            ledger=self._ledger,
            refresh=self._refresh_token,
            adapt=self._adapt,
            pacer=self._pacer,
            cost=cost,
        )

    def _respond_call(
        self, model: str | None, options: dict[str, Any]
    ) -> tuple[CallState, Deployment | None]:
        """A Responses call; a follow-up turn goes only to the deployment storing its
        `previous_response_id` (when this client produced it; else the usual candidates)."""
        pinned = self._homes.get(options.get("previous_response_id"))
        return self._call(model, "responses", pinned=pinned), pinned

    def _remember(self, call: CallState, options: dict[str, Any], result: ResponseResult) -> None:
        if options.get("store") is not False:
            self._homes.add(result.id, call.deployment)

    def _candidates(self, model: str | None, method: str) -> tuple[list[Deployment], str]:
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise InvalidRequestError(
                f"model= must name an alias, deployment or base model; got {model!r} "
                f"(leave it out for the default alias {DEFAULT_ALIAS[method]!r})"
            )
        label = model or DEFAULT_ALIAS[method]
        # Deployments never change after construction, so each name resolves once.
        candidates = self._resolved.get(label)
        if candidates is None:
            candidates = self._resolved[label] = resolve(self._deployments, label)
        return candidates, label

    def _auth_for(self, deployment: Deployment) -> Auth:
        # One Auth per credential, so deployments sharing it share one cached token.
        credential = deployment.credential or self._credential
        auth = self._auths.get(id(credential))
        if auth is None:
            auth = make_auth(credential, asynchronous=self._asynchronous)
            self._auths[id(credential)] = auth
        return auth

    def _refresh_token(self, deployment: Deployment) -> bool:
        return self._auth_for(deployment).invalidate()

    def _openai_for(self, d: Deployment, operation: str = "chat") -> Any:
        # One openai client per resource, route and credential, not per deployment: on both
        # routes the deployment travels in the request (`model=`), so a pool of N deployments
        # on one resource shares one client and its connection pool.
        credential = d.credential or self._credential
        version = d.api_version_for(operation)
        key = (d.resource_endpoint, version, id(credential))
        client = self._openai_clients.get(key)
        if client is None:
            client = self._openai_clients[key] = self._build_openai(d, version)
        return client

    def _build_openai(self, d: Deployment, version: str | None) -> Any:
        auth = self._auth_for(d)
        common = {"http_client": self._http, "max_retries": 0, "timeout": self._timeout}
        if auth.token is not None:
            secret: Any = auth.token
        else:
            secret = auth.async_openai_key() if self._asynchronous else auth.openai_key()
        if version is None:
            return self._openai_v1(
                base_url=f"{d.resource_endpoint}/openai/v1/", api_key=secret, **common
            )
        if auth.token is not None:
            return self._openai_classic(
                azure_endpoint=d.resource_endpoint,
                api_version=version,
                azure_ad_token_provider=secret,
                **common,
            )
        return self._openai_classic(
            azure_endpoint=d.resource_endpoint, api_version=version, api_key=secret, **common
        )

    def _chat_options(
        self, d: Deployment, options: dict[str, Any], *, stream: bool
    ) -> dict[str, Any]:
        return chat_options(
            d, options, stream=stream, completion_tokens=d in self._completion_tokens
        )

    def _timeout_for(self, call: CallState, options: Mapping[str, Any]) -> dict[str, Any]:
        """The attempt's `timeout=`: the client's, cut to what is left of the call's deadline,
        so that one slow answer cannot outlast the deadline. A caller's own `timeout=` wins;
        a cut of under a second is not worth a per-request timeout (the common case: a fresh
        call whose deadline equals the timeout)."""
        remaining = call.remaining()
        if "timeout" in options or remaining > self._timeout - 1.0:
            return {}
        return {"timeout": remaining}

    def _adapt(self, deployment: Deployment) -> bool:
        """The deployment refused `max_tokens`: send `max_completion_tokens` from now on.

        True the first time (the call resends at once), False if it was already so.
        """
        if deployment in self._completion_tokens:
            return False
        self._completion_tokens.add(deployment)
        return True

    def __repr__(self) -> str:
        names = ", ".join(d.id for d in self._deployments)
        return f"{type(self).__name__}(deployments=[{names}])"


def _build_deployments(
    endpoint: str | None,
    deployments: Mapping[str, str] | Sequence[Deployment] | None,
    api_version: str | None,
) -> list[Deployment]:
    if deployments is None or not deployments:
        raise ConfigurationError(
            "no deployments configured; pass deployments={'chat': '<deployment name>', …} or set "
            + ", ".join(ALIASES.values())
        )
    if isinstance(deployments, Mapping):
        base = check_endpoint(
            _exact(endpoint, "endpoint="), variable="endpoint= / AZURE_OPENAI_ENDPOINT"
        )
        by_name: dict[str, list[str]] = {}
        for alias, name in deployments.items():
            by_name.setdefault(name, []).append(alias)
        return [
            Deployment(name, endpoint=base, aliases=tuple(aliases), api_version=api_version)
            for name, aliases in by_name.items()
        ]
    result = list(deployments)
    for d in result:
        if not isinstance(d, Deployment):
            raise ConfigurationError(
                f"deployments= must hold Deployment objects or be a mapping; got {type(d).__name__}"
            )
        where = f"Deployment({d.name!r}).endpoint"
        check_endpoint(_exact(d.endpoint, where), variable=where)
    if endpoint is not None:
        raise ConfigurationError("pass endpoint= only with the mapping form of deployments=")
    return result


def _exact(endpoint: Any, where: str) -> Any:
    """An endpoint given in code is used as written: not a string, or surrounding whitespace
    (a pasted newline), is refused rather than guessed at."""
    if endpoint is None:
        return None
    if not isinstance(endpoint, str):
        raise ConfigurationError(
            f"{where} must be a string like 'https://<resource>.openai.azure.com'; "
            f"got {type(endpoint).__name__}"
        )
    if endpoint != endpoint.strip():
        raise ConfigurationError(
            f"{where} has spaces or a line break around it; remove them "
            "(expected 'https://<resource>.openai.azure.com')"
        )
    return endpoint
