"""`Deployment`: one Azure OpenAI deployment on one resource, and how `model=` resolves to them.

Resolution is pure: it turns `model=` into an ordered list of candidates (lower priority
number first) and raises `DeploymentNotFoundError` before any HTTP when nothing matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError, DeploymentNotFoundError

__all__ = [
    "DEFAULT_API_VERSION",
    "IMAGE_API_VERSION",
    "Deployment",
    "is_reasoning_model",
    "resolve",
]

#: The latest GA dated data-plane version (docs/wire.md, "Routes and versions").
DEFAULT_API_VERSION = "2024-10-21"
#: The classic route's version for images when none is configured: the newest dated version
#: that serves both dall-e-3 and gpt-image-1 (docs/wire.md, "Which route the kit takes by default").
IMAGE_API_VERSION = "2025-04-01-preview"
#: Operations the v1 API serves; the others take the classic route by default.
V1_OPERATIONS = frozenset({"chat", "embeddings", "responses"})

_REASONING = re.compile(r"^(o1|o3|o4|gpt-5)(\b|[-.]|$)")


def is_reasoning_model(model: str) -> bool:
    """True for the o-series and gpt-5 families, which refuse `max_tokens` (docs/wire.md)."""
    return _REASONING.match(model.lower()) is not None


_V1_SUFFIX = "/openai/v1"


@dataclass(frozen=True, eq=False)
class Deployment:
    """One deployment: its name on the resource, the resource endpoint, and how callers name it.

    `aliases` are the logical names (`"chat"`, `"code"`, …) that `model=` may use; `model` is
    the base model (`"gpt-4o-mini"`), also accepted by `model=`. Lower `priority` is tried
    first. `api_version="v1"` (or an endpoint ending in `/openai/v1`) selects the v1 API for
    every operation, a dated `api_version` the classic route; with neither, each operation
    takes the route Microsoft recommends for it (`api_version_for`). `credential` overrides
    the client's credential for this deployment only. `tpm`/`rpm` declare its quota (tokens
    and requests per minute) so the client paces requests to fit it (docs/quota.md); unset,
    they are learned from Azure's `x-ratelimit-limit-*` headers.
    Deployments compare by identity, so the same name on two resources are two members.
    """

    name: str
    endpoint: str = field(kw_only=True)
    model: str | None = field(default=None, kw_only=True)
    aliases: tuple[str, ...] = field(default=(), kw_only=True)
    priority: int = field(default=0, kw_only=True)
    api_version: str | None = field(default=None, kw_only=True)
    credential: Any = field(default=None, kw_only=True, repr=False)
    tpm: int | None = field(default=None, kw_only=True)
    rpm: int | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"deployment name {self.name!r} must be non-empty and contain no '/'")
        if not isinstance(self.endpoint, str):
            raise ConfigurationError(
                f"Deployment({self.name!r}).endpoint must be a string like "
                f"'https://<resource>.openai.azure.com'; got {type(self.endpoint).__name__}"
            )
        for quota in ("tpm", "rpm"):
            value = getattr(self, quota)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(
                    f"deployment {self.name!r}: {quota} must be a positive whole number "
                    f"(the deployment's quota as the Azure portal shows it), got {value!r}"
                )
        # Accept a list for convenience; store a tuple so the dataclass stays immutable.
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))

    @cached_property  # read on every call; a deployment never changes
    def is_v1(self) -> bool:
        """True when this deployment is called through the v1 API (`/openai/v1/…`)."""
        return self.api_version == "v1" or self.endpoint.endswith(_V1_SUFFIX)

    @cached_property
    def resource_endpoint(self) -> str:
        """The endpoint without any `/openai/v1` suffix: `https://res.openai.azure.com`."""
        if self.endpoint.endswith(_V1_SUFFIX):
            return self.endpoint[: -len(_V1_SUFFIX)]
        return self.endpoint

    @cached_property
    def host(self) -> str:
        """The endpoint's host name, used in logs and `status()`."""
        return urlsplit(self.endpoint).hostname or self.endpoint

    @cached_property
    def id(self) -> str:
        """A readable unique label: `name@host`."""
        return f"{self.name}@{self.host}"

    @property
    def effective_api_version(self) -> str | None:
        """The classic route's `api-version` for chat; `None` when chat goes to v1."""
        return self.api_version_for("chat")

    def api_version_for(self, operation: str) -> str | None:
        """The classic route's `api-version` for `operation`, or `None` for the v1 API.

        Explicit settings win; otherwise v1 for what v1 serves (chat, embeddings, responses)
        and `IMAGE_API_VERSION` on the classic route for images.
        """
        if self.is_v1:
            return None
        if self.api_version:
            return self.api_version
        return None if operation in V1_OPERATIONS else IMAGE_API_VERSION

    @cached_property
    def reasoning(self) -> bool:
        """True when the base model (or, without one, the name) is a reasoning model."""
        return is_reasoning_model(self.model or self.name)


def resolve(deployments: Sequence[Deployment], model: str) -> list[Deployment]:
    """Return the deployments `model` names, ordered by priority (stable within a tier).

    `model` is matched, in this order, as an alias, a deployment name, then a base model; the
    first kind that matches anything wins, so an alias can never be shadowed by a model name.
    """
    for matches in (
        lambda d: model in d.aliases,
        lambda d: d.name == model,
        lambda d: d.model == model,
    ):
        found = [d for d in deployments if matches(d)]
        if found:
            return sorted(found, key=lambda d: d.priority)
    aliases = sorted({a for d in deployments for a in d.aliases})
    names = sorted({d.name for d in deployments})
    # Only the kit's own aliases have a variable; anything else is configured in code or a pool.
    fix = (
        f"set AZURE_OPENAI_{model.upper()}_DEPLOYMENT"
        if model in ("chat", "code", "image", "embedding")
        else "use one of those, or add it to deployments= / the AZURE_AI_KIT_CONFIG pool file"
    )
    raise DeploymentNotFoundError(
        f"no deployment matches model={model!r}; known aliases: {', '.join(aliases) or '(none)'}; "
        f"deployments: {', '.join(names) or '(none)'} — {fix}",
        model=model,
    )
