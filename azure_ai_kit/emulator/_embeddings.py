"""Embeddings: deterministic unit vectors from a hash of each input."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from typing import Any

from . import _errors
from ._synth import estimate_tokens
from ._wire import Call, Delay, Outcome, json_outcome

__all__ = ["default_dimensions", "estimate", "respond", "vector"]

_MAX_INPUTS = 2048


def default_dimensions(model: str) -> int:
    """3072 for ``*-large`` models, 1536 otherwise."""
    return 3072 if "large" in model else 1536


def _inputs(body: dict[str, Any]) -> list[str | list[int]] | None:
    raw = body.get("input")
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(i, int) for i in raw):
        return [list(raw)]
    if isinstance(raw, list) and raw and all(isinstance(i, (str, list)) for i in raw):
        return list(raw)
    return None


def _tokens(item: str | list[int]) -> int:
    return len(item) if isinstance(item, list) else estimate_tokens(item)


def estimate(body: dict[str, Any]) -> int:
    """Admission charge: the estimated tokens of all inputs."""
    return sum(_tokens(i) for i in _inputs(body) or [])


def vector(item: str | list[int], dimensions: int) -> list[float]:
    """A deterministic unit vector seeded by ``sha256`` of the input."""
    seed = int.from_bytes(hashlib.sha256(repr(item).encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def respond(call: Call) -> Outcome:
    """Answer one embeddings request."""
    body = call.body
    inputs = _inputs(body)
    if inputs is None or any(isinstance(i, str) and not i for i in inputs):
        message = "'input' must be a non-empty string or a non-empty array of strings or tokens."
        return json_outcome(400, _errors.bad_request(message, param="input"))
    if len(inputs) > _MAX_INPUTS:
        message = f"Too many inputs. The max number of inputs is {_MAX_INPUTS}."
        return json_outcome(400, _errors.bad_request(message, param="input"))
    full = default_dimensions(call.deployment.model_name)
    dims = body.get("dimensions", full)
    if not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= full:
        message = f"Invalid value for 'dimensions': {dims!r}. Allowed values: 1 to {full}."
        return json_outcome(400, _errors.bad_request(message, param="dimensions"))
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        message = f"Invalid value for 'encoding_format': {fmt!r}. Allowed values: float, base64."
        return json_outcome(400, _errors.bad_request(message, param="encoding_format"))
    data = []
    for index, item in enumerate(inputs):
        vec = vector(item, dims)
        encoded: list[float] | str = vec
        if fmt == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(_tokens(i) for i in inputs)
    response = {
        "object": "list",
        "data": data,
        "model": call.deployment.model_name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    outcome = json_outcome(200, response)
    if call.deployment.first_token_latency > 0:
        outcome.parts.insert(0, Delay(call.deployment.first_token_latency))
    return outcome
