"""A faithful, deterministic local Azure OpenAI emulator.

Two doors over one core: in-process ``httpx`` transports (``Emulator.transport()``,
``Emulator.async_transport()``) and a loopback HTTP server (``Emulator.serve()``,
``azure-ai-kit emulator``). Importing this package is cheap: no openai, no uvicorn.
"""

from ._client_config import client_config
from ._core import Emulator
from ._faults import Fault
from ._scripted import Reply, ToolCall
from ._wire import EmulatedDeployment, RequestRecord

__all__ = [
    "EmulatedDeployment",
    "Emulator",
    "Fault",
    "Reply",
    "RequestRecord",
    "ToolCall",
    "client_config",
]
