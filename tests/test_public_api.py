"""The names users type: `azure_ai_kit.__all__` is complete, sorted and importable, and
`import azure_ai_kit` stays cheap (no openai, no azure-identity until needed)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import azure_ai_kit
from azure_ai_kit import _exceptions, _results

EXPECTED = {
    "AsyncAzureAIClient",
    "AsyncChatStream",
    "AsyncResponseStream",
    "Attempt",
    "AuthenticationError",
    "AzureAIClient",
    "AzureAIKitError",
    "CategoryResult",
    "ChatChunk",
    "ChatResult",
    "ChatStream",
    "Choice",
    "ConfigurationError",
    "ContentFilterReport",
    "ContentFilteredError",
    "ContextLengthError",
    "DEFAULT_API_VERSION",
    "Deployment",
    "DeploymentNotFoundError",
    "DeploymentStatus",
    "EmbeddingResult",
    "GeneratedImage",
    "ImageDownloads",
    "ImageResult",
    "InvalidRequestError",
    "PoolStatus",
    "Price",
    "RateLimitedError",
    "RedisStore",
    "ResponseChunk",
    "ResponseResult",
    "ResponseStream",
    "RetryPolicy",
    "Served",
    "ServiceError",
    "Settings",
    "StateStore",
    "StructuredOutputError",
    "ToolLoopError",
    "ToolsResult",
    "Usage",
    "UsageLine",
    "UsageReport",
    "arun_tools",
    "function_tool",
    "run_tools",
    "write_atomic",
}


def _isort_key(name: str) -> tuple[int, str]:
    """ruff RUF022's order: SCREAMING_CASE constants, then CamelCase classes, then the rest."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def test_all_is_complete():
    assert set(azure_ai_kit.__all__) == EXPECTED


def test_all_has_no_duplicates_and_is_sorted():
    names = list(azure_ai_kit.__all__)
    assert len(names) == len(set(names))
    assert names == sorted(names, key=_isort_key)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_is_importable(name):
    namespace: dict[str, object] = {}
    exec(f"from azure_ai_kit import {name}", namespace)
    assert namespace[name] is getattr(azure_ai_kit, name)
    assert name in dir(azure_ai_kit)


def test_every_error_and_result_type_is_exported():
    for module in (_exceptions, _results):
        missing = set(module.__all__) - set(azure_ai_kit.__all__)
        assert not missing, f"{module.__name__} names missing from azure_ai_kit: {missing}"
    errors = {
        name
        for name, obj in vars(_exceptions).items()
        if inspect.isclass(obj) and issubclass(obj, azure_ai_kit.AzureAIKitError)
    }
    assert errors <= set(azure_ai_kit.__all__)


def test_public_classes_have_docstrings():
    for name in azure_ai_kit.__all__:
        obj = getattr(azure_ai_kit, name)
        if inspect.isclass(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = azure_ai_kit.Nope  # type: ignore[attr-defined]


def test_default_api_version_is_latest_ga():
    """docs/wire.md: latest GA dated version is 2024-10-21."""
    assert azure_ai_kit.DEFAULT_API_VERSION == "2024-10-21"


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_import_is_cheap_in_a_fresh_interpreter():
    out = _fresh(
        "import sys, azure_ai_kit\n"
        "heavy = ('openai', 'azure.identity', 'pydantic_settings', 'tenacity')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert out == "[]"


def test_azure_identity_is_not_imported_by_the_clients():
    out = _fresh(
        "import sys\n"
        "from azure_ai_kit import AzureAIClient, AsyncAzureAIClient\n"
        "c = AzureAIClient(endpoint='https://r.openai.azure.com', credential='k',\n"
        "                  deployments={'chat': 'gpt-4o'})\n"
        "print('openai' in sys.modules, 'azure.identity' in sys.modules)\n"
    )
    assert out == "True False"
