"""The in-process door: ``httpx`` transports (sync and async) over the emulator core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from ._wire import Delay, Drop, EmuRequest, Outcome, Part

if TYPE_CHECKING:
    from ._core import Emulator

__all__ = ["AsyncEmulatorTransport", "EmulatorTransport"]


def _to_request(request: httpx.Request, body: bytes) -> EmuRequest:
    url = request.url
    return EmuRequest(
        method=request.method,
        path=url.path,
        query=dict(url.params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        origin=f"{url.scheme}://{url.netloc.decode('ascii')}",
    )


def _dropped(request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=request
    )


def _split(outcome: Outcome) -> tuple[list[Part], list[Part]]:
    """Leading waits/drops (before the response exists) and the rest."""
    for index, part in enumerate(outcome.parts):
        if isinstance(part, bytes):
            return outcome.parts[:index], outcome.parts[index:]
    return outcome.parts, []


def _response(
    outcome: Outcome, rest: list[Part], stream: httpx.SyncByteStream | httpx.AsyncByteStream | None
) -> httpx.Response:
    headers = list(outcome.headers.items())
    if stream is not None:
        return httpx.Response(outcome.status, headers=headers, stream=stream)
    content = b"".join(p for p in rest if isinstance(p, bytes))
    return httpx.Response(outcome.status, headers=headers, content=content)


class _SyncParts(httpx.SyncByteStream):
    def __init__(
        self, parts: list[Part], transport: EmulatorTransport, request: httpx.Request
    ) -> None:
        self._parts = parts
        self._transport = transport
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, Delay):
                self._transport.emulator.sleep(part.seconds)
            elif isinstance(part, Drop):
                raise httpx.ReadError("Connection reset by peer", request=self._request)
            else:
                yield part


class _AsyncParts(httpx.AsyncByteStream):
    def __init__(
        self, parts: list[Part], transport: AsyncEmulatorTransport, request: httpx.Request
    ) -> None:
        self._parts = parts
        self._transport = transport
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            if isinstance(part, Delay):
                await self._transport.emulator.async_sleep(part.seconds)
            elif isinstance(part, Drop):
                raise httpx.ReadError("Connection reset by peer", request=self._request)
            else:
                yield part


class EmulatorTransport(httpx.BaseTransport):
    """Serve ``httpx.Client`` requests from an :class:`Emulator`, without sockets."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request*; waits use the emulator's ``sleep``."""
        outcome = self.emulator.handle(_to_request(request, request.read()))
        lead, rest = _split(outcome)
        for part in lead:
            if isinstance(part, Delay):
                self.emulator.sleep(part.seconds)
            elif isinstance(part, Drop):
                raise _dropped(request)
        stream = _SyncParts(rest, self, request) if outcome.stream else None
        return _response(outcome, rest, stream)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """Serve ``httpx.AsyncClient`` requests from an :class:`Emulator`, without sockets."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request*; waits use the emulator's ``async_sleep``."""
        outcome = self.emulator.handle(_to_request(request, await request.aread()))
        lead, rest = _split(outcome)
        for part in lead:
            if isinstance(part, Delay):
                await self.emulator.async_sleep(part.seconds)
            elif isinstance(part, Drop):
                raise _dropped(request)
        stream = _AsyncParts(rest, self, request) if outcome.stream else None
        return _response(outcome, rest, stream)
