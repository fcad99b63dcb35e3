"""Pure request decisions: which route, which api-version, which credential."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Route", "any_credential", "authenticate", "match"]

Operation = Literal["chat", "embedding", "image"]

_OPERATIONS: dict[str, Operation] = {
    "chat/completions": "chat",
    "embeddings": "embedding",
    "images/generations": "image",
}
_CLASSIC = re.compile(
    r"^/openai/deployments/([^/]+)/(chat/completions|embeddings|images/generations)/?$"
)
_V1 = re.compile(r"^/openai/v1/(chat/completions|embeddings|images/generations)/?$")
_IMAGE = re.compile(r"^/emulator/images/([0-9a-f]+)\.png$")


@dataclass(frozen=True)
class Route:
    """A matched path: an operation (classic or v1) or an emulator-served image."""

    kind: Literal["classic", "v1", "image"]
    operation: Operation | None = None
    deployment: str | None = None
    image_id: str | None = None


def match(method: str, path: str) -> Route | None:
    """Match *path*; ``None`` means Azure's 404 "Resource not found"."""
    if method == "GET":
        found = _IMAGE.match(path)
        return Route("image", image_id=found.group(1)) if found else None
    if method != "POST":
        return None
    found = _CLASSIC.match(path)
    if found:
        return Route("classic", _OPERATIONS[found.group(2)], deployment=found.group(1))
    found = _V1.match(path)
    if found:
        return Route("v1", _OPERATIONS[found.group(1)])
    return None


def authenticate(
    headers: dict[str, str], api_key: str | None, tokens: tuple[str, ...]
) -> Literal["key", "bearer"] | None:
    """Which credential authenticated the request: ``"key"``, ``"bearer"`` (a token) or None.

    The key is accepted in ``api-key`` or as ``Authorization: Bearer <key>``.
    """
    key = headers.get("api-key")
    if key is not None and api_key is not None and key == api_key:
        return "key"
    authorization = headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() == "bearer" and credential:
        credential = credential.strip()
        if api_key is not None and credential == api_key:
            return "key"
        if credential in tokens:
            return "bearer"
    return None


def any_credential(headers: dict[str, str]) -> Literal["key", "bearer"] | None:
    """The kind of any non-empty credential, for ``accept_any_credential=True``."""
    if headers.get("api-key", "").strip():
        return "key"
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    return "bearer" if scheme.lower() == "bearer" and credential.strip() else None
