"""A call, and a stream's wait for its next content, end near the deadline / timeout.

These use a real server on a loopback socket (httpx's timeouts and SSE keep-alive comments
are what is under test) and real time, kept to about a second per test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from azure_ai_kit import AsyncAzureAIClient, AzureAIClient, RetryPolicy, ServiceError

CHUNK = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}],
}

Behaviour = Callable[[socket.socket, threading.Event], None]


def _chunked(conn: socket.socket, data: bytes) -> None:
    conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))


def slow_answer(conn: socket.socket, stop: threading.Event) -> None:
    """Answers nothing for 5 s (a server stuck before its headers)."""
    stop.wait(5)


def keepalives(first_content: bool) -> Behaviour:
    """Sends stream headers, optionally one content chunk, then `: keep-alive` forever."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        if first_content:
            _chunked(conn, b"data: " + json.dumps(CHUNK).encode() + b"\n\n")
        while not stop.wait(0.1):
            _chunked(conn, b": keep-alive\n\n")

    return behave


@pytest.fixture
def server() -> Iterator[Callable[[Behaviour], str]]:
    """`server(behaviour)` → an http://127.0.0.1:port endpoint answering every request so."""
    stop = threading.Event()
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(behaviour: Behaviour) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                sockets.append(conn)
                conn.recv(65536)
                with contextlib.suppress(OSError):  # the client hung up, as it should
                    behaviour(conn, stop)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    stop.set()
    for sock in sockets:
        sock.close()
    for thread in threads:
        thread.join(timeout=2)


def _client(endpoint: str, cls: Any = AzureAIClient, **kwargs: Any) -> Any:
    return cls(
        endpoint,
        "k" * 32,
        deployments={"chat": "gpt-4o"},
        retry=RetryPolicy(max_attempts=1, deadline=kwargs.pop("deadline", 60.0)),
        **kwargs,
    )


def read(stream: Any) -> None:
    with stream:
        for _ in stream:
            pass


async def aread(stream: Any) -> None:
    async with stream:
        async for _ in stream:
            pass


def test_the_deadline_bounds_a_call_to_a_slow_server(server: Any) -> None:
    client = _client(server(slow_answer), deadline=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceError, match="timed out"):
        client.chat("hi")
    assert time.monotonic() - started < 2.0
    client.close()


async def test_the_deadline_bounds_an_async_call_to_a_slow_server(server: Any) -> None:
    client = _client(server(slow_answer), AsyncAzureAIClient, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceError, match="timed out"):
        await client.chat("hi")
    assert time.monotonic() - started < 2.0
    await client.close()


def test_a_stream_of_keepalives_ends_near_the_timeout(server: Any) -> None:
    client = _client(server(keepalives(first_content=True)), timeout=0.5, deadline=2.0)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"no content for 0\.5s") as info:
        read(client.stream_chat("hi"))
    assert time.monotonic() - started < 2.5
    assert info.value.partial_text == "Hello"
    client.close()


async def test_an_async_stream_of_keepalives_ends_near_the_timeout(server: Any) -> None:
    client = _client(
        server(keepalives(first_content=True)), AsyncAzureAIClient, timeout=0.5, deadline=2.0
    )
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"no content for 0\.5s") as info:
        await aread(client.stream_chat("hi"))
    assert time.monotonic() - started < 2.5
    assert info.value.partial_text == "Hello"
    await client.close()


def test_keepalives_before_any_content_end_the_attempt(server: Any) -> None:
    client = _client(server(keepalives(first_content=False)), timeout=0.5, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(ServiceError, match="no content"):
        client.stream_chat("hi").text()
    assert time.monotonic() - started < 2.0
    client.close()


async def test_async_keepalives_before_any_content_end_the_attempt(server: Any) -> None:
    client = _client(
        server(keepalives(first_content=False)), AsyncAzureAIClient, timeout=0.5, deadline=1.0
    )
    started = time.monotonic()
    with pytest.raises(ServiceError, match="no content"):
        await client.stream_chat("hi").text()
    assert time.monotonic() - started < 2.0
    await client.close()


def test_finished_watches_neither_pile_up_nor_keep_their_streams() -> None:
    from azure_ai_kit import _watchdog

    class Stream:
        response = None

    watches = []
    for _ in range(500):  # many short streams, each done long before its timeout
        watch = _watchdog.Watch.start(Stream(), idle=60.0, remaining=60.0)
        watch.stop()
        watches.append(watch)
    assert all(w._stream is None for w in watches)
    assert len(_watchdog._THREAD._heap) <= 64 + 1
