"""What both client twins share: configuration, deployment resolution, request shaping and
result conversion. No I/O happens here; the per-call retry state is in `_call`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._auth import Auth, make_auth
from ._call import Served
from ._deployment import Deployment, resolve
from ._endpoint import ALIASES, check_endpoint
from ._exceptions import ConfigurationError
from ._results import (
    Attempt,
    ChatResult,
    EmbeddingResult,
    ImageResult,
    Usage,
    completion_filter_from,
    decode_images,
    prompt_filter_from,
)
from ._retry import RetryPolicy
from ._routing import DeploymentStatus, Router
from ._usage import Price, UsageLedger, UsageReport

__all__ = ["ClientBase", "build_messages", "env_config"]

#: `model=` defaults per method.
DEFAULT_ALIAS = {"chat": "chat", "image": "image", "embedding": "embedding"}


def build_messages(prompt: str | Sequence[Mapping[str, Any]], system: str | None) -> list[Any]:
    """A prompt string becomes one user message; a list is used as given. `system` goes first."""
    if isinstance(prompt, str):
        messages: list[Any] = [{"role": "user", "content": prompt}]
    else:
        messages = list(prompt)
        if not messages:
            raise ValueError("messages is empty; pass a prompt string or at least one message")
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return messages


def wants_usage_chunk(deployment: Deployment) -> bool:
    """`stream_options.include_usage` exists on v1 and previews from 2024-09-01 (WIRE.md)."""
    version = deployment.effective_api_version
    return version is None or (version.endswith("-preview") and version >= "2024-09-01")


class ClientBase:
    """Everything the twins share that does no I/O."""

    _asynchronous = False

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
    ) -> None:
        self._deployments = _build_deployments(endpoint, deployments, api_version)
        self._credential = credential
        self._auths: dict[int, Auth] = {}
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._clock = clock
        self._router = Router(self._deployments, clock=clock, broken_for=self._retry.broken_for)
        self._ledger = UsageLedger()
        self._resolved: dict[str, list[Deployment]] = {}
        if credential is not None:
            make_auth(credential, asynchronous=self._asynchronous)  # fail fast on a bad type
        for d in self._deployments:
            if credential is None and d.credential is None:
                raise ConfigurationError(
                    f"no credential for deployment {d.id}; pass credential= (an API key, "
                    "AzureKeyCredential or DefaultAzureCredential()) or use from_env()"
                )

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """Every configured deployment, in configuration order."""
        return tuple(self._deployments)

    def status(self) -> list[DeploymentStatus]:
        """Each deployment's state (healthy / cooling until T / broken), last error and quota."""
        return self._router.status()

    def usage(self, prices: Mapping[str, Price] | None = None) -> UsageReport:
        """Calls and tokens per deployment and alias since this client started.

        `prices` maps a deployment name (or `name@host`) to a `Price` per 1K input/output
        tokens; the report then carries an estimated cost.
        """
        return self._ledger.report(prices)

    def _auth_for(self, deployment: Deployment) -> Auth:
        # One Auth per credential, so deployments sharing it share one cached token.
        credential = deployment.credential or self._credential
        auth = self._auths.get(id(credential))
        if auth is None:
            auth = make_auth(credential, asynchronous=self._asynchronous)
            self._auths[id(credential)] = auth
        return auth

    def _candidates(self, model: str | None, method: str) -> tuple[list[Deployment], str]:
        label = model or DEFAULT_ALIAS[method]
        # Deployments never change after construction, so each name resolves once.
        candidates = self._resolved.get(label)
        if candidates is None:
            candidates = self._resolved[label] = resolve(self._deployments, label)
        return candidates, label

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
        base = check_endpoint(endpoint, variable="endpoint= / AZURE_OPENAI_ENDPOINT")
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
        check_endpoint(d.endpoint, variable=f"Deployment({d.name!r}).endpoint")
    if endpoint is not None:
        raise ConfigurationError("pass endpoint= only with the mapping form of deployments=")
    return result


def chat_result(completion: Any, served: Served, attempts: Sequence[Attempt]) -> ChatResult:
    """Convert an `openai` ChatCompletion into a `ChatResult`."""
    choice = completion.choices[0] if completion.choices else None
    return ChatResult(
        **served.fields(attempts),
        text=(choice.message.content or "") if choice else "",
        finish_reason=choice.finish_reason if choice else None,
        usage=Usage.from_openai(completion.usage),
        model=completion.model or None,
        prompt_filter=prompt_filter_from(completion.model_extra),
        completion_filter=completion_filter_from(choice.model_extra if choice else None),
        raw=completion,
    )


def image_result(response: Any, served: Served, attempts: Sequence[Attempt]) -> ImageResult:
    """Convert an `openai` ImagesResponse into an `ImageResult`."""
    return ImageResult(
        **served.fields(attempts),
        images=decode_images(response.data or ()),
        created=getattr(response, "created", None),
        raw=response,
    )


def embedding_result(response: Any, served: Served, attempts: Sequence[Attempt]) -> EmbeddingResult:
    """Convert an `openai` CreateEmbeddingResponse into an `EmbeddingResult`."""
    return EmbeddingResult(
        **served.fields(attempts),
        vectors=tuple(list(item.embedding) for item in sorted(response.data, key=_index)),
        usage=Usage.from_openai(response.usage),
        model=response.model or None,
        raw=response,
    )


def _index(item: Any) -> int:
    return int(item.index)


def embedding_input(texts: str | Iterable[str]) -> str | list[str]:
    """Validate embedding input: a string or a non-empty list of strings."""
    if isinstance(texts, str):
        return texts
    items = list(texts)
    if not items or not all(isinstance(t, str) for t in items):
        raise ValueError("embed() takes a string or a non-empty list of strings")
    return items


#: The emulator's default deployments, by alias (see `azure_ai_kit.emulator.Emulator.default`).
EMULATOR_DEPLOYMENTS = {
    "chat": "gpt-4o-mini",
    "code": "gpt-4.1",
    "image": "dall-e-3",
    "embedding": "text-embedding-3-small",
}


def emulator_config(emulator: Any = None, *, asynchronous: bool) -> dict[str, Any]:
    """Client keyword arguments for an in-process emulator (a new default one if not given).

    The aliases map as `EMULATOR_DEPLOYMENTS`; `gpt-image-1` is there too, by name, on the
    preview api-version it needs (WIRE.md, "Images").
    """
    import httpx

    from .emulator import Emulator

    emu = emulator if emulator is not None else Emulator.default()
    http: httpx.Client | httpx.AsyncClient
    if asynchronous:
        http = httpx.AsyncClient(transport=emu.async_transport())
    else:
        http = httpx.Client(transport=emu.transport())
    deployments = [
        Deployment(name, endpoint=emu.endpoint, aliases=(alias,), model=name)
        for alias, name in EMULATOR_DEPLOYMENTS.items()
    ]
    deployments.append(
        Deployment(
            "gpt-image-1",
            endpoint=emu.endpoint,
            model="gpt-image-1",
            api_version="2025-04-01-preview",
        )
    )
    return {"credential": emu.api_key, "deployments": deployments, "http_client": http}


def env_config(*, asynchronous: bool, fallback: str | None = None) -> dict[str, Any]:
    """Client keyword arguments from `Settings` (env / `.env`) and the optional pool file.

    `fallback="emulator"` returns an in-process emulator's configuration when no endpoint
    is configured at all, or when AZURE_AI_KIT_EMULATOR=1 asks for it, and says so on stderr;
    without `fallback` the library never uses the emulator.
    """
    from ._auth import StaticToken, default_credential
    from ._settings import Settings, load_pool_file

    if fallback not in (None, "emulator"):
        raise ValueError(f"fallback must be None or 'emulator', not {fallback!r}")
    settings = Settings.load()
    if fallback == "emulator" and settings.use_emulator:
        print(
            "azure-ai-kit: AZURE_AI_KIT_EMULATOR is set; using the local emulator "
            "(replies are synthetic).",
            file=sys.stderr,
        )
        return emulator_config(asynchronous=asynchronous)
    if fallback == "emulator" and settings.endpoint is None and settings.config_file is None:
        print(
            "azure-ai-kit: AZURE_OPENAI_ENDPOINT is not set; using the local emulator "
            "(replies are synthetic). Set it in .env to use Azure.",
            file=sys.stderr,
        )
        return emulator_config(asynchronous=asynchronous)
    credential: Any
    if settings.api_key is not None:
        credential = settings.api_key
    elif settings.ad_token is not None:
        credential = StaticToken(settings.ad_token)
    else:
        credential = None  # resolved below, only if some deployment needs it
    if settings.config_file is not None:
        pool = load_pool_file(settings.config_file)
        if credential is None and any(d.credential is None for d in pool):
            credential = default_credential(asynchronous=asynchronous)
        return {"deployments": pool, "credential": credential, "timeout": settings.timeout}
    endpoint = check_endpoint(settings.endpoint)
    mapping = settings.deployment_map()
    if not mapping:
        raise ConfigurationError(
            "no deployments configured; set at least one of "
            + ", ".join(ALIASES.values())
            + " (or AZURE_AI_KIT_CONFIG for a pool file)"
        )
    if credential is None:
        credential = default_credential(asynchronous=asynchronous)
    return {
        "endpoint": endpoint,
        "deployments": mapping,
        "credential": credential,
        "api_version": settings.api_version,
        "timeout": settings.timeout,
    }
