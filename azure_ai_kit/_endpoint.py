"""Endpoint validation and the kit's aliases: pure, and cheap to import.

Kept apart from `_settings` so that building a client never imports pydantic-settings;
only `from_env()` needs that.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError

__all__ = ["ALIASES", "check_endpoint"]

#: The logical names the kit knows out of the box, with the variable that sets each.
ALIASES: dict[str, str] = {
    "chat": "AZURE_OPENAI_CHAT_DEPLOYMENT",
    "code": "AZURE_OPENAI_CODE_DEPLOYMENT",
    "image": "AZURE_OPENAI_IMAGE_DEPLOYMENT",
    "embedding": "AZURE_OPENAI_EMBEDDING_DEPLOYMENT",
}

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.ASCII)


def check_endpoint(endpoint: str | None, *, variable: str = "AZURE_OPENAI_ENDPOINT") -> str:
    """Validate an Azure endpoint and return it without a trailing slash.

    Must be `https://…`; plain `http://` is allowed only for localhost / 127.0.0.1 (the emulator).
    The path may be empty or `/openai/v1` (which selects the v1 API).
    """
    if not endpoint or not endpoint.strip():
        raise ConfigurationError(
            f"no Azure OpenAI endpoint configured; set {variable} "
            "(e.g. https://my-resource.openai.azure.com) or pass endpoint="
        )
    value = endpoint.strip().rstrip("/")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
        parts = None
    if (
        parts is None
        or not host
        or parts.scheme not in ("https", "http")
        or not (_HOSTNAME.fullmatch(host) or ":" in host)  # a DNS name / IPv4, or IPv6
    ):
        raise ConfigurationError(
            f"{variable} is not a valid URL: expected https://<resource>.openai.azure.com"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"{variable} must not contain a user name or password; pass the key as the "
            "credential (AZURE_OPENAI_API_KEY) instead"
        )
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise ConfigurationError(
            f"{variable} must use https:// (plain http:// is allowed only for localhost); "
            f"got a http:// URL for {host}"
        )
    if parts.path not in ("", "/openai/v1") or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{variable} should be the resource URL only, like https://{host} "
            f"(or https://{host}/openai/v1 for the v1 API); remove '{parts.path}' "
            "and any query: the deployment and api-version are added per call"
        )
    return value
