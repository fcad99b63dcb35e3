"""azure-ai-kit: a thin, typed client for Azure OpenAI Service over the official `openai` package.

```python
from azure_ai_kit import AzureAIClient
client = AzureAIClient.from_env()
print(client.chat("Summarise the partnership in one line.").text)
```

The clients (and with them `openai`) are imported on first use, so `import azure_ai_kit`
stays cheap; azure-identity is imported only when a token credential is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._deployment import DEFAULT_API_VERSION, Deployment
from ._downloads import ImageDownloads
from ._exceptions import (
    AuthenticationError,
    AzureAIKitError,
    ConfigurationError,
    ContentFilteredError,
    ContextLengthError,
    DeploymentNotFoundError,
    InvalidRequestError,
    RateLimitedError,
    ServiceError,
)
from ._results import (
    Attempt,
    CategoryResult,
    ChatChunk,
    ChatResult,
    Choice,
    ContentFilterReport,
    EmbeddingResult,
    GeneratedImage,
    ImageResult,
    Served,
    Usage,
    write_atomic,
)
from ._retry import RetryPolicy
from ._usage import Price, UsageLine, UsageReport

if TYPE_CHECKING:
    from ._async_chat_stream import AsyncChatStream
    from ._async_client import AsyncAzureAIClient
    from ._chat_stream import ChatStream
    from ._client import AzureAIClient
    from ._routing import DeploymentStatus
    from ._settings import Settings

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_API_VERSION",
    "AsyncAzureAIClient",
    "AsyncChatStream",
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
    "Deployment",
    "DeploymentNotFoundError",
    "DeploymentStatus",
    "EmbeddingResult",
    "GeneratedImage",
    "ImageDownloads",
    "ImageResult",
    "InvalidRequestError",
    "Price",
    "RateLimitedError",
    "RetryPolicy",
    "Served",
    "ServiceError",
    "Settings",
    "Usage",
    "UsageLine",
    "UsageReport",
    "write_atomic",
]

# name → module, for the names whose modules import openai or pydantic-settings.
_LAZY = {
    "AsyncAzureAIClient": "._async_client",
    "AsyncChatStream": "._async_chat_stream",
    "AzureAIClient": "._client",
    "ChatStream": "._chat_stream",
    "DeploymentStatus": "._routing",
    "Settings": "._settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'azure_ai_kit' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
