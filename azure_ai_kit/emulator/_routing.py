"""Pure request decisions: which route, which api-version, which credential."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from . import _errors, _versions

__all__ = ["Route", "any_credential", "authenticate", "match", "version_error"]

Operation = Literal["chat", "embedding", "image", "responses"]

_OPERATIONS: dict[str, Operation] = {
    "chat/completions": "chat",
    "embeddings": "embedding",
    "images/generations": "image",
    "responses": "responses",
}
_CLASSIC = re.compile(
    r"^/openai/deployments/([^/]+)/(chat/completions|embeddings|images/generations)/?$"
)
_V1 = re.compile(r"^/openai/v1/(chat/completions|embeddings|images/generations|responses)/?$")
# The Responses API is not per-deployment: the deployment is the body's `model`.
_RESPONSES_PREVIEW = re.compile(r"^/openai/responses/?$")
_STORED_RESPONSE = re.compile(r"^/openai(?:/v1)?/responses/([A-Za-z0-9_\-]+)/?$")
_IMAGE = re.compile(r"^/emulator/images/([0-9a-f]+)\.png$")


@dataclass(frozen=True)
class Route:
    """A matched path: an operation (classic or v1), an emulator-served image, or a stored
    response (``GET …/responses/{id}``; ``response_id`` set).

    ``classic`` routes need a dated ``api-version``; the preview Responses route is one of them
    with no deployment in the path.
    """

    kind: Literal["classic", "v1", "image"]
    operation: Operation | None = None
    deployment: str | None = None
    image_id: str | None = None
    response_id: str | None = None


def match(method: str, path: str) -> Route | None:
    """Match *path*; ``None`` means Azure's 404 "Resource not found"."""
    if method == "GET":
        found = _IMAGE.match(path)
        if found:
            return Route("image", image_id=found.group(1))
        found = _STORED_RESPONSE.match(path)
        if found is None:
            return None
        kind: Literal["classic", "v1"] = "v1" if path.startswith("/openai/v1/") else "classic"
        return Route(kind, "responses", response_id=found.group(1))
    if method != "POST":
        return None
    found = _CLASSIC.match(path)
    if found:
        return Route("classic", _OPERATIONS[found.group(2)], deployment=found.group(1))
    found = _V1.match(path)
    if found:
        return Route("v1", _OPERATIONS[found.group(1)])
    if _RESPONSES_PREVIEW.match(path):
        return Route("classic", "responses")
    return None


def version_error(route: Route, version: str | None) -> tuple[int, dict[str, Any]] | None:
    """Azure's (status, body) for an api-version *route* does not take, or None if it is fine.

    Classic routes need a published dated version (missing → 404, unknown → 400); the preview
    Responses route exists from ``RESPONSES_FIRST_VERSION`` on (older → 404). v1 routes take
    no version, ``v1`` or ``preview``.
    """
    if route.kind != "classic":
        if version is not None and version not in _versions.V1_VERSIONS:
            return 400, _errors.api_version_unsupported()
        return None
    if version is None:
        return 404, _errors.resource_not_found()
    if not _versions.is_known_version(version):
        return 400, _errors.api_version_unsupported()
    if route.operation == "responses" and not _versions.supports(
        version, _versions.RESPONSES_FIRST_VERSION
    ):
        return 404, _errors.resource_not_found()
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
