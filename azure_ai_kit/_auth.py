"""Credentials: the only module that reads a secret.

Accepted: a plain key (`str` or pydantic `SecretStr`), `azure.core.credentials.AzureKeyCredential`
(read on every request, so `.update()` rotates the key without a new client), any
`TokenCredential` / `AsyncTokenCredential` (Entra ID, scope `SCOPE`).
Types are recognised by shape, so importing the kit never imports azure-core or azure-identity.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import SecretStr

from ._exceptions import ConfigurationError

__all__ = [
    "SCOPE",
    "AsyncTokenProvider",
    "Auth",
    "TokenProvider",
    "default_credential",
    "make_auth",
]

#: The Entra ID scope for Azure OpenAI data-plane calls.
SCOPE = "https://cognitiveservices.azure.com/.default"

# Refresh a little before expiry, as azure-core's BearerTokenCredentialPolicy does.
_REFRESH_MARGIN = 300.0

AuthKind = Literal["key", "token"]


class TokenProvider:
    """Returns a bearer token from a sync `TokenCredential`, reusing it until near expiry.

    `invalidate()` forces the next call to ask the credential again (after a 401).
    """

    def __init__(self, credential: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._credential = credential
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Any = None

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._token.expires_on - _REFRESH_MARGIN <= self._clock():
                self._token = self._credential.get_token(SCOPE)
            return str(self._token.token)

    def invalidate(self) -> None:
        """Drop the cached token so the next request fetches a fresh one."""
        with self._lock:
            self._token = None

    def __repr__(self) -> str:
        return f"TokenProvider({type(self._credential).__name__})"


class AsyncTokenProvider:
    """The async twin of `TokenProvider`; also accepts a sync credential (called inline)."""

    def __init__(self, credential: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._credential = credential
        self._clock = clock
        self._lock: asyncio.Lock | None = None
        self._token: Any = None

    async def __call__(self) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is None or self._token.expires_on - _REFRESH_MARGIN <= self._clock():
                token = self._credential.get_token(SCOPE)
                if inspect.isawaitable(token):
                    token = await token
                self._token = token
            return str(self._token.token)

    def invalidate(self) -> None:
        """Drop the cached token so the next request fetches a fresh one."""
        self._token = None

    def __repr__(self) -> str:
        return f"AsyncTokenProvider({type(self._credential).__name__})"


class Auth:
    """How one deployment authenticates: a key getter or a token provider; never shows a secret."""

    def __init__(
        self,
        kind: AuthKind,
        *,
        key: Callable[[], str] | None = None,
        token: TokenProvider | AsyncTokenProvider | None = None,
        fixed: SecretStr | None = None,
        description: str,
    ) -> None:
        self.kind = kind
        self._key = key
        self._fixed = fixed
        self.token = token
        self.description = description

    def key_getter(self) -> Callable[[], str]:
        """A callable returning the current key (rotated keys are picked up on the next call)."""
        assert self._key is not None
        return self._key

    def openai_key(self) -> str | Callable[[], str]:
        """What to give openai as `api_key`: the key itself when it cannot change, else a getter.

        A fixed key spares a provider call per request; an `AzureKeyCredential` stays a getter
        so that `.update()` takes effect on the next request.
        """
        if self._fixed is not None:
            return self._fixed.get_secret_value()
        return self.key_getter()

    def async_openai_key(self) -> str | Callable[[], Awaitable[str]]:
        """The async form of `openai_key`."""
        if self._fixed is not None:
            return self._fixed.get_secret_value()
        return self.async_key_getter()

    def async_key_getter(self) -> Callable[[], Awaitable[str]]:
        """The async form openai's async clients expect for a callable `api_key`."""
        get = self.key_getter()

        async def key() -> str:
            return get()

        return key

    def masked(self) -> str:
        """The key as `****` plus at most its last 4 characters (none for a short key)."""
        if self._key is None:
            return "****"
        key = self._key()
        return "****" + key[-4:] if len(key) >= 12 else "****"

    def scrub(self, text: str) -> str:
        """`text` with the current key replaced by `****`, should an error message echo it."""
        if self._key is None:
            return text
        key = self._key()
        return text.replace(key, "****") if key else text

    def invalidate(self) -> bool:
        """Forget a cached token; returns False when there is nothing to refresh (a key)."""
        if self.token is None:
            return False
        self.token.invalidate()
        return True

    def __repr__(self) -> str:
        return f"Auth({self.description})"


def make_auth(credential: Any, *, asynchronous: bool) -> Auth:
    """Classify a credential and wrap it; raises `ConfigurationError` for anything unusable."""
    if isinstance(credential, SecretStr):
        secret = credential
        if not secret.get_secret_value().strip():
            raise ConfigurationError("the API key is empty; set AZURE_OPENAI_API_KEY")
        return Auth("key", key=secret.get_secret_value, fixed=secret, description="API key")
    if isinstance(credential, str):
        if not credential.strip():
            raise ConfigurationError("the API key is empty; set AZURE_OPENAI_API_KEY")
        plain = SecretStr(credential)
        return Auth("key", key=plain.get_secret_value, fixed=plain, description="API key")
    if hasattr(credential, "get_token"):
        provider_cls = AsyncTokenProvider if asynchronous else TokenProvider
        if not asynchronous and inspect.iscoroutinefunction(credential.get_token):
            raise ConfigurationError(
                f"{type(credential).__name__} is an async credential; use it with "
                "AsyncAzureAIClient, or pass azure.identity.DefaultAzureCredential() here"
            )
        return Auth(
            "token",
            token=provider_cls(credential),
            description=f"Entra ID token ({type(credential).__name__})",
        )
    if hasattr(credential, "key") and hasattr(credential, "update"):
        rotating = credential  # AzureKeyCredential: read .key per request so update() takes effect

        def current_key() -> str:
            return str(rotating.key)

        return Auth("key", key=current_key, description="AzureKeyCredential")
    raise ConfigurationError(
        f"unsupported credential {type(credential).__name__}: pass an API key string, "
        "azure.core.credentials.AzureKeyCredential, or an azure-identity credential such as "
        "DefaultAzureCredential()"
    )


def default_credential(*, asynchronous: bool) -> Any:
    """`DefaultAzureCredential`, imported only now so the kit imports fast without it."""
    try:
        if asynchronous:
            from azure.identity.aio import DefaultAzureCredential
        else:
            from azure.identity import DefaultAzureCredential  # type: ignore[assignment]
    except ImportError as exc:  # pragma: no cover - azure-identity is a dependency
        raise ConfigurationError(
            "no API key configured and azure-identity is not installed; set "
            "AZURE_OPENAI_API_KEY or `pip install azure-identity`"
        ) from exc
    return DefaultAzureCredential()


class StaticToken:
    """A fixed bearer token (`AZURE_OPENAI_AD_TOKEN`), shaped like a `TokenCredential`.

    It cannot refresh itself; when it expires Azure answers 401 and the kit says so.
    """

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Return the token as an `AccessToken`-shaped object that never expires locally."""
        from types import SimpleNamespace

        return SimpleNamespace(token=self._token.get_secret_value(), expires_on=float("inf"))

    def __repr__(self) -> str:
        return "StaticToken(**********)"
