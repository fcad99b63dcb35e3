"""Which api-versions exist, what each one accepts, and the facts about models the emulator serves.

The dated versions are the folders of Azure/azure-rest-api-specs
``specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/`` and ``…/preview/``
(see docs/wire.md, "Routes and versions"). Azure answers any other version with 400
``API version not supported``; the v1 routes take ``v1``/``preview`` or no version at all.
"""

from __future__ import annotations

import re

__all__ = [
    "GPT_IMAGE_FIRST_VERSION",
    "KNOWN_VERSIONS",
    "RESPONSES_FIRST_VERSION",
    "STREAM_OPTIONS_FIRST_VERSION",
    "V1_VERSIONS",
    "is_known_version",
    "is_reasoning_model",
    "reported_model",
    "supports",
]

# specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/<version>/
_STABLE = ("2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21")
# specification/cognitiveservices/data-plane/AzureOpenAI/inference/preview/<version>/
_PREVIEW = (
    "2022-03-01-preview",
    "2022-06-01-preview",
    "2023-03-15-preview",
    "2023-06-01-preview",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01-preview",
    "2023-10-01-preview",
    "2023-11-01-preview",
    "2023-12-01-preview",
    "2024-02-15-preview",
    "2024-03-01-preview",
    "2024-04-01-preview",
    "2024-05-01-preview",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
)
KNOWN_VERSIONS = frozenset(_STABLE + _PREVIEW)
V1_VERSIONS = ("v1", "preview")

#: `stream_options` and `max_completion_tokens` first appear in 2024-09-01-preview (and are in
#: the 2024-10-21 GA spec); older versions answer 400 unknown_parameter.
STREAM_OPTIONS_FIRST_VERSION = "2024-09-01"
#: The Responses API's preview route (`/openai/responses`) is served from 2025-03-01-preview on.
RESPONSES_FIRST_VERSION = "2025-03-01"
#: gpt-image-1 is served from 2025-04-01-preview on.
GPT_IMAGE_FIRST_VERSION = "2025-04-01"

_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})")

# The dated model version Azure reports in `model` for a base model name.
_MODEL_VERSIONS = {
    "gpt-35-turbo": "gpt-35-turbo-0125",
    "gpt-4": "gpt-4-0613",
    "gpt-4o": "gpt-4o-2024-11-20",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "o1": "o1-2024-12-17",
    "o1-mini": "o1-mini-2024-09-12",
    "o3": "o3-2025-04-16",
    "o3-mini": "o3-mini-2025-01-31",
    "o4-mini": "o4-mini-2025-04-16",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
}
_REASONING = re.compile(r"^(o1|o3|o4|gpt-5)")


def is_known_version(version: str) -> bool:
    """Whether *version* is a dated api-version Azure publishes (stable or preview)."""
    return version in KNOWN_VERSIONS


def supports(version: str, first: str) -> bool:
    """Whether *version* (dated, ``v1`` or ``preview``) is *first* (a date) or later."""
    if version in V1_VERSIONS:
        return True
    found = _DATED.match(version)
    return found is not None and found.group(1) >= first


def is_reasoning_model(model: str) -> bool:
    """o1, o3, o4-mini and the gpt-5 family: they refuse `max_tokens` and sampling settings."""
    return bool(_REASONING.match(model.lower()))


def reported_model(model: str) -> str:
    """The versioned model name Azure puts in `model` (``gpt-4o-mini`` → ``…-2024-07-18``)."""
    return _MODEL_VERSIONS.get(model, model)
