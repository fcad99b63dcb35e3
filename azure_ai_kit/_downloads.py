"""Image downloads: which URLs the kit fetches, how much it reads, and what it lets show.

A dall-e answer with `response_format="url"` names a SAS URL on Azure blob storage, and the
kit fetches it for you. That URL comes from the network, so it is checked first: https only,
on Azure blob storage (`*.blob.core.windows.net`) or the serving deployment's own endpoint,
unless `ImageDownloads(hosts=…)` allows more; an IP address (loopback, link-local such as
169.254.169.254, a private range) is never on the default list. The query string of a SAS
URL is a credential: it reaches no log line and no error, only the host and path do.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError, ServiceError

__all__ = [
    "AZURE_STORAGE_HOSTS",
    "DEFAULT_MAX_BYTES",
    "ImageDownloads",
    "bad_status",
    "check_image_url",
    "declared_size",
    "hide_query",
    "quiet_query",
    "redact_error",
    "too_large",
]

#: Hosts the kit downloads images from without being told: Azure blob storage, where Azure
#: OpenAI's image URLs point (e.g. dalleprodsec.blob.core.windows.net; docs/images.md).
AZURE_STORAGE_HOSTS = ("*.blob.core.windows.net",)
#: The largest image the kit reads by default: 50 MiB (a 1792x1024 dall-e-3 PNG is ~3 MB).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ImageDownloads:
    """Which image URLs the kit may fetch, and the most it reads from one.

    `hosts` adds host names to the default list (Azure blob storage and the serving
    deployment's own endpoint); `"*.example.com"` allows every subdomain, an exact name or
    IP address allows that host only. `max_bytes` caps one image. Pass it to a client as
    `image_downloads=ImageDownloads(hosts=["images.contoso.com"])`.
    """

    hosts: Sequence[str] = ()
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if isinstance(self.hosts, str):  # a lone string would be read letter by letter
            raise ConfigurationError(
                f"ImageDownloads(hosts=) takes a list of host names; got the string "
                f"{self.hosts!r} — write hosts=[{self.hosts!r}]"
            )
        hosts = tuple(self.hosts)
        if not all(isinstance(h, str) and h.strip() and "/" not in h for h in hosts):
            raise ConfigurationError(
                "ImageDownloads(hosts=) takes host names such as 'images.contoso.com' or "
                "'*.contoso.com' (no scheme, no path)"
            )
        object.__setattr__(self, "hosts", tuple(h.strip().lower() for h in hosts))
        if (
            not isinstance(self.max_bytes, int)
            or isinstance(self.max_bytes, bool)
            or self.max_bytes < 1
        ):
            raise ConfigurationError(
                f"ImageDownloads(max_bytes=) must be a positive number of bytes; got "
                f"{self.max_bytes!r}"
            )

    def allows(self, host: str) -> bool:
        """True when `host` is on the default list or one the user added."""
        host = host.lower()
        return any(_matches(pattern, host) for pattern in (*AZURE_STORAGE_HOSTS, *self.hosts))


def _matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and not _is_ip(host)
    return host == pattern


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def hide_query(url: str) -> str:
    """`url` without its query string and fragment: `https://host/path` (for logs and errors)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def check_image_url(url: str, policy: ImageDownloads, endpoint: str) -> str:
    """Check an image URL from a response before fetching it; returns it without its query.

    Allowed: the serving deployment's own `endpoint` (same scheme, host and port: the
    emulator serves images there), or an https URL whose host `policy` allows.
    Raises `ServiceError` naming the host and the setting that would allow it.
    """
    shown = hide_query(url)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        origin = _origin(url)
    except ValueError:
        raise ServiceError(
            "the image URL in the response is not a valid URL; ask for "
            "response_format='b64_json' instead"
        ) from None
    if origin == _origin(endpoint) and host:
        return shown
    if parts.scheme != "https":
        raise ServiceError(
            f"refused to download the generated image from {shown}: only https URLs are "
            "fetched; ask for response_format='b64_json' instead"
        )
    if not host or not policy.allows(host):
        what = "an IP address" if _is_ip(host) else "not Azure blob storage"
        raise ServiceError(
            f"refused to download the generated image from {host or '?'} ({what}); if you "
            f"trust it, pass image_downloads=ImageDownloads(hosts=[{host!r}]) to the client, "
            "or ask for response_format='b64_json'"
        )
    return shown


def too_large(shown: str, limit: int) -> ServiceError:
    """The error for an image larger than `ImageDownloads.max_bytes`."""
    return ServiceError(
        f"the generated image at {shown} is larger than {limit} bytes; raise "
        "ImageDownloads(max_bytes=) if you expect images this large"
    )


def bad_status(shown: str, status: int) -> ServiceError:
    """The error for a download answered with anything but 200 (redirects are not followed)."""
    return ServiceError(
        f"could not download the generated image from {shown} ({status}); SAS links expire "
        "after 24 hours — ask for response_format='b64_json' to avoid downloads",
        status_code=status,
    )


def declared_size(headers: Any) -> int:
    """The response's `content-length`, or 0 when it is absent or not a number."""
    value = headers.get("content-length")
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def redact_error(exc: BaseException, url: str) -> BaseException:
    """`exc` (an httpx transport error) with `url`'s query removed from its request and text,
    so the chained traceback shows only the host and path."""
    shown = hide_query(url)
    request = exc.__dict__.get("_request") or exc.__dict__.get("request")
    if request is not None and hasattr(request, "url"):
        with suppress(AttributeError, TypeError, ValueError):
            request.url = type(request.url)(shown)
    exc.args = tuple(a.replace(url, shown) if isinstance(a, str) else a for a in exc.args)
    return exc


# --- keeping the query out of httpx's INFO line ("HTTP Request: GET https://…?sig=…") -------
_DOWNLOADING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "azure_ai_kit_downloading", default=False
)
_HTTP_LOGGERS = ("httpx", "httpx2")


class _HideQuery(logging.Filter):
    """Rewrites URL arguments of httpx's log records to host and path, during a download."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _DOWNLOADING.get() and isinstance(record.args, tuple):
            record.args = tuple(_hidden(arg) for arg in record.args)
        return True


def _hidden(arg: Any) -> Any:
    text = str(arg) if hasattr(arg, "query") and hasattr(arg, "host") else arg
    if isinstance(text, str) and text.startswith(("https://", "http://")):
        return hide_query(text)
    return arg


_FILTER = _HideQuery()


@contextmanager
def quiet_query() -> Iterator[None]:
    """While inside, httpx's request log lines in this thread or task show no query string."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    token = _DOWNLOADING.set(True)
    try:
        yield
    finally:
        _DOWNLOADING.reset(token)
