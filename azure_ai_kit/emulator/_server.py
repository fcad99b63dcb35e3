"""The loopback door: a hand-written ASGI app over the core, served by uvicorn (optional)."""

from __future__ import annotations

import contextvars
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ._wire import Delay, Drop, EmuRequest, Outcome

if TYPE_CHECKING:
    from ._core import Emulator

__all__ = ["LOOPBACK_HOSTS", "bind", "make_app", "run", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


# Set inside the connection's task when the app abandons a response on purpose, so the
# server's "returned without completing response" error for that connection is not logged.
_DROPPING: contextvars.ContextVar[bool] = contextvars.ContextVar("_DROPPING", default=False)


class _QuietScriptedDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _DROPPING.get()


def make_app(emulator: Emulator) -> App:
    """An ASGI application answering with *emulator*."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        origin = f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}"
        outcome = emulator.handle(
            EmuRequest(scope["method"], scope["path"], query, headers, bytes(body), origin)
        )
        await _send_outcome(emulator, outcome, send)

    return app


async def _send_outcome(emulator: Emulator, outcome: Outcome, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()]
    chunks = [p for p in outcome.parts if isinstance(p, bytes)]
    dropping = any(isinstance(p, Drop) for p in outcome.parts)
    if dropping:
        # Promise a body, then abort: the client sees the connection reset mid-response.
        headers.append((b"content-length", b"1024"))
    elif not outcome.stream:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode("ascii")))
    started = False
    for part in outcome.parts:
        if isinstance(part, Delay):
            await emulator.async_sleep(part.seconds)
            continue
        if not started:
            start = {"type": "http.response.start", "status": outcome.status, "headers": headers}
            await send(start)
            started = True
        if isinstance(part, Drop):
            # Return mid-response: the server closes the connection.
            _DROPPING.set(True)
            return
        await send({"type": "http.response.body", "body": part, "more_body": True})
    if not started:
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (``port=0`` picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _server(emulator: Emulator) -> Any:
    try:
        import uvicorn
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the emulator server needs uvicorn: pip install 'azure-ai-kit[server]'"
        ) from exc
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietScriptedDrops) for f in error_log.filters):
        error_log.addFilter(_QuietScriptedDrops())
    config = uvicorn.Config(
        make_app(emulator), lifespan="off", log_level="warning", access_log=False
    )
    return uvicorn.Server(config)


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(emulator: Emulator, sock: socket.socket) -> None:
    """Serve on *sock* in the current thread until interrupted (Ctrl-C)."""
    _server(emulator).run(sockets=[sock])


@contextmanager
def serve(emulator: Emulator, *, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Run the server on loopback in a background thread; yield its base URL; stop on exit."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"serve() binds loopback only, not {host!r}")
    sock = bind(host, port)
    server = _server(emulator)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="azure-ai-kit-emulator"
    )
    thread.start()
    waiter = threading.Event()
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError("the emulator server failed to start")
        waiter.wait(0.005)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
