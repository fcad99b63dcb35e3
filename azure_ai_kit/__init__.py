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
    StructuredOutputError,
    ToolLoopError,
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
    from ._async_client import AsyncAzureAIClient
    from ._async_stream import AsyncChatStream, AsyncResponseStream
    from ._client import AzureAIClient
    from ._responses import ResponseChunk, ResponseResult
    from ._routing import DeploymentStatus, PoolStatus
    from ._settings import Settings
    from ._state import RedisStore, StateStore
    from ._stream import ChatStream, ResponseStream
    from ._tools import ToolsResult, arun_tools, function_tool, run_tools

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_API_VERSION",
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
]

# name → module, for the names whose modules import openai or pydantic-settings.
_LAZY = {
    "AsyncAzureAIClient": "._async_client",
    "AsyncChatStream": "._async_stream",
    "AsyncResponseStream": "._async_stream",
    "AzureAIClient": "._client",
    "ChatStream": "._stream",
    "DeploymentStatus": "._routing",
    "PoolStatus": "._routing",
    "RedisStore": "._state",
    "StateStore": "._state",
    "ResponseChunk": "._responses",
    "ResponseResult": "._responses",
    "ResponseStream": "._stream",
    "Settings": "._settings",
    "ToolsResult": "._tools",
    "arun_tools": "._tools",
    "function_tool": "._tools",
    "run_tools": "._tools",
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
