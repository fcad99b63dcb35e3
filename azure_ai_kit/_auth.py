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

from ._exceptions import AuthenticationError, ConfigurationError

__all__ = [
    "SCOPE",
    "AsyncTokenProvider",
    "Auth",
    "TokenProvider",
    "clean_key",
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
                try:
                    self._token = self._credential.get_token(SCOPE)
                except Exception as exc:
                    raise token_failed(self._credential, exc) from exc
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
                try:
                    token = self._credential.get_token(SCOPE)
                    if inspect.isawaitable(token):
                        token = await token
                except Exception as exc:
                    raise token_failed(self._credential, exc) from exc
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
        key = self._current()
        return "****" + key[-4:] if len(key) >= 12 else "****"

    def scrub(self, text: str) -> str:
        """`text` with the current key replaced by `****`, should an error message echo it."""
        key = self._current()
        return text.replace(key, "****") if key else text

    def _current(self) -> str:
        if self._key is None:
            return ""
        try:
            return self._key()
        except ConfigurationError:  # a rotated key that is unusable: nothing valid to show
            return ""

    def invalidate(self) -> bool:
        """Forget a cached token; returns False when there is nothing to refresh (a key)."""
        if self.token is None:
            return False
        self.token.invalidate()
        return True

    def __repr__(self) -> str:
        return f"Auth({self.description})"


def clean_key(key: object, *, source: str = "the API key") -> str:
    """The key without surrounding whitespace (a newline from a file or a k8s secret).

    Raises `ConfigurationError` — never showing the key — when it is empty or holds control
    or non-ASCII characters, which no Azure key has and no HTTP header may carry.
    """
    if not isinstance(key, str):
        raise ConfigurationError(
            f"{source} must be a string; got {type(key).__name__} — set AZURE_OPENAI_API_KEY"
        )
    value = key.strip()
    if not value:
        raise ConfigurationError(f"{source} is empty; set AZURE_OPENAI_API_KEY")
    bad = next((c for c in value if not " " <= c <= "~"), None)
    if bad is not None:
        what = "a control character" if bad.isascii() else "a non-ASCII character"
        raise ConfigurationError(
            f"{source} contains {what} (at position {value.index(bad) + 1} of {len(value)}); "
            "copy the key again from the Azure portal (Keys and Endpoint) into "
            "AZURE_OPENAI_API_KEY"
        )
    return value


def token_failed(credential: Any, exc: Exception) -> AuthenticationError:
    """The error for a credential that could not produce a token (`az login` expired, no
    managed identity, …): an `AuthenticationError` chained to the credential's own error."""
    name = type(credential).__name__
    return AuthenticationError(
        f"{name} could not get a token for Azure OpenAI ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); sign in with `az login`, "
        "check the managed identity, or set AZURE_OPENAI_API_KEY"
    )


def make_auth(credential: Any, *, asynchronous: bool) -> Auth:
    """Classify a credential and wrap it; raises `ConfigurationError` for anything unusable."""
    if isinstance(credential, (SecretStr, str)):
        raw = credential.get_secret_value() if isinstance(credential, SecretStr) else credential
        plain = SecretStr(clean_key(raw))
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
            return clean_key(rotating.key, source="the AzureKeyCredential's key")

        clean_key(rotating.key, source="the AzureKeyCredential's key")  # fail fast
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
