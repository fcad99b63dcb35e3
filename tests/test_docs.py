"""The documentation is tested: every Python snippet runs, and the configuration tables match.

Snippets: every fenced ```python block in `docs/*.md` and `README.md` is one test case (id
`file.md:line`). It runs in a fresh namespace, with the working directory a temporary folder,
the AZURE_*/OPENAI_* environment replaced by one pointing at an in-process emulator, and no
network: every `httpx`/`httpx2` client created without a transport is routed to the emulator,
`DefaultAzureCredential` and friends are fakes, and sockets may only reach loopback. Top-level
`await` runs under `asyncio.run`. A snippet that defines `test_*` functions is run by pytest
itself (pytester), so the fixture examples are checked too.

Skip convention (use sparingly, always with a reason): put the comment
`<!-- docs-test: skip (reason) -->` on the line just before the opening fence.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest

import azure_ai_kit._telemetry
import azure_ai_kit.testing  # imported before pytester snapshots sys.modules
from azure_ai_kit import AsyncAzureAIClient, AzureAIClient, Deployment, Settings
from azure_ai_kit._settings import POOL_KEYS, load_pool_file
from azure_ai_kit.emulator import EmulatedDeployment, Emulator

pytest_plugins = ("pytester",)
# Imported here so every module the snippets need exists before any pytester run.
_CLIENTS = (AzureAIClient, AsyncAzureAIClient)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SOURCES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]

SKIP_MARK = re.compile(r"<!--\s*docs-test:\s*skip\b")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n]*)$")

#: The environment every snippet starts from (nothing else AZURE_*/OPENAI_* is set).
SNIPPET_ENV = {
    "AZURE_OPENAI_ENDPOINT": "https://my-resource.openai.azure.com",
    "AZURE_OPENAI_API_KEY": "docs-example-key",
    "OPENAI_API_VERSION": "2024-10-21",
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4o-mini",
    "AZURE_OPENAI_CODE_DEPLOYMENT": "gpt-4.1",
    "AZURE_OPENAI_IMAGE_DEPLOYMENT": "dall-e-3",
    "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "text-embedding-3-small",
    # Per-resource keys the pool examples name.
    "EASTUS_OPENAI_KEY": "docs-eastus-key",
    "SWC_OPENAI_KEY": "docs-swc-key",
}
#: Extra deployments the snippets use besides the emulator's defaults.
EXTRA_DEPLOYMENTS = [EmulatedDeployment("gpt-4o", kind="chat", model="gpt-4o")]


# --- collecting -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip: str | None  # the skip comment, if any

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def collect(path: Path) -> list[Snippet]:
    """Every fenced block whose info string starts with `python` (`py` too)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    snippets = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not (
            lines[index].strip().startswith(fence) and lines[index].strip().strip(fence[0]) == ""
        ):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1
        language = info.split()[0].lower() if info else ""
        if language not in ("python", "py"):
            continue
        previous = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        skip = previous.strip() if SKIP_MARK.search(previous) else None
        snippets.append(Snippet(path, start + 1, "\n".join(body) + "\n", skip))
    return snippets


SNIPPETS = [s for source in SOURCES if source.exists() for s in collect(source)]


def test_snippets_were_found() -> None:
    names = {s.path.name for s in SNIPPETS}
    assert {"index.md", "README.md", "testing.md", "errors.md"} <= names
    skipped = [s for s in SNIPPETS if s.skip]
    assert len(skipped) <= len(SNIPPETS) // 5, "skip sparingly: " + ", ".join(s.id for s in skipped)


# --- the sandbox ------------------------------------------------------------------------------
class FakeAccessToken:
    def __init__(self, token: str) -> None:
        self.token = token
        self.expires_on = int(time.time()) + 3600


class FakeCredential:
    """Stands in for every azure-identity credential: a token the emulator accepts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def get_token(self, *scopes: str, **kwargs: Any) -> FakeAccessToken:
        assert scopes == ("https://cognitiveservices.azure.com/.default",), scopes
        return FakeAccessToken("docs-entra-token")

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token = self.get_token(*scopes)
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeAsyncCredential(FakeCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> FakeAccessToken:  # type: ignore[override]
        return FakeCredential.get_token(self, *scopes)

    async def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        return FakeCredential.get_token_info(self, *scopes)

    async def close(self) -> None:  # type: ignore[override]
        pass

    async def __aenter__(self) -> FakeAsyncCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


LOGGERS = ("", "azure_ai_kit")
CREDENTIALS = ("DefaultAzureCredential", "ManagedIdentityCredential", "AzureCliCredential")


def _httpx2_transport(emu: Emulator) -> httpx2.MockTransport:
    """openai's default client is httpx2; bridge its requests to the emulator's httpx door."""
    door = emu.transport()

    def handle(request: httpx2.Request) -> httpx2.Response:
        legacy = httpx.Request(
            request.method,
            str(request.url),
            headers=list(request.headers.multi_items()),
            content=request.content,
        )
        response = door.handle_request(legacy)
        return httpx2.Response(
            response.status_code,
            headers=list(response.headers.multi_items()),
            content=response.read(),
        )

    return httpx2.MockTransport(handle)


def _route(cls: type, make_transport: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = cls.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("transport") is None and not kwargs.get("mounts"):
            kwargs["transport"] = make_transport()
        original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__init__", __init__)


def _fresh_observability(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snippets may set OpenTelemetry providers and logging; none of it outlives the snippet."""
    from opentelemetry import trace
    from opentelemetry.metrics import _internal as metrics
    from opentelemetry.util._once import Once

    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_PROXY_TRACER_PROVIDER", trace.ProxyTracerProvider())
    monkeypatch.setattr(metrics, "_METER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(metrics, "_METER_PROVIDER", None)
    monkeypatch.setattr(metrics, "_PROXY_METER_PROVIDER", metrics._ProxyMeterProvider())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "handlers", list(logger.handlers))


def _clear_telemetry_cache() -> None:
    instruments: Any = getattr(azure_ai_kit._telemetry, "instruments", None)
    if hasattr(instruments, "cache_clear"):
        instruments.cache_clear()


def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise OSError(f"docs snippets may not use the network (tried {address!r})")
        original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """Working dir, environment, HTTP, credentials and sockets for one snippet."""
    import azure.identity
    import azure.identity.aio

    emu = Emulator.default(accept_any_credential=True)
    for d in EXTRA_DEPLOYMENTS:
        emu.deployments[d.name] = d
    monkeypatch.chdir(tmp_path)
    saved_env = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("AZURE_", "OPENAI_")):
            del os.environ[name]
    os.environ.update(SNIPPET_ENV)
    _route(httpx.Client, emu.transport, monkeypatch)
    _route(httpx.AsyncClient, emu.async_transport, monkeypatch)
    _route(httpx2.Client, lambda: _httpx2_transport(emu), monkeypatch)
    _route(httpx2.AsyncClient, lambda: _httpx2_transport(emu), monkeypatch)
    for name in CREDENTIALS:
        monkeypatch.setattr(azure.identity, name, FakeCredential)
        monkeypatch.setattr(azure.identity.aio, name, FakeAsyncCredential)
    _loopback_only(monkeypatch)
    _fresh_observability(monkeypatch)
    _clear_telemetry_cache()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    try:
        yield emu
    finally:
        _clear_telemetry_cache()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        os.environ.clear()
        os.environ.update(saved_env)


def run_snippet(snippet: Snippet) -> None:
    """Execute the code; a top-level `await` makes the whole snippet a coroutine."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(snippet.code, f"{snippet.path.name}:{snippet.line}", "exec", flags=flags)
    namespace: dict[str, Any] = {"__name__": "__docs_snippet__"}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


def run_as_tests(snippet: Snippet, pytester: pytest.Pytester) -> None:
    """A snippet of `test_*` functions is a test module: run it with pytest, all must pass."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_snippet=snippet.code)
    result = pytester.runpytest_inprocess(
        "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    assert outcomes.get("passed", 0) > 0, result.stdout.str()


@pytest.mark.parametrize("snippet", [pytest.param(s, id=s.id) for s in SNIPPETS])
def test_snippet(snippet: Snippet, sandbox: Emulator, request: pytest.FixtureRequest) -> None:
    if snippet.skip:
        pytest.skip(snippet.skip)
    if re.search(r"^(async )?def test_", snippet.code, re.MULTILINE):
        run_as_tests(snippet, request.getfixturevalue("pytester"))
    else:
        run_snippet(snippet)


# --- the configuration reference ------------------------------------------------------------
def table_after(page: str, marker: str) -> list[list[str]]:
    """The rows (cells, stripped) of the first Markdown table after the line `marker`."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows[1:]  # without the header


def code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def rendered_default(value: Any) -> str:
    """How the page writes a default: — for none, 0/1 for booleans, 60 for 60.0."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{int(value)}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def test_environment_table_matches_settings() -> None:
    rows = table_after("configuration.md", "checked against azure_ai_kit.Settings")
    documented = {tuple(code_names(row[0])): row[1] for row in rows}
    expected = {}
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        assert choices, f"Settings.{name} has no environment variable"
        expected[tuple(str(c) for c in choices)] = rendered_default(field.default)
    assert documented == expected


def test_pool_file_table_matches_load_pool_file(tmp_path: Path) -> None:
    rows = table_after("configuration.md", "checked against azure_ai_kit._settings.load_pool_file")
    documented = {code_names(row[0])[0]: row[1] for row in rows}
    assert set(documented) == set(POOL_KEYS)

    # Required keys really are required; the documented defaults are what a minimal table gets.
    required = {k for k, v in documented.items() if v == "required"}
    assert required == {"name", "endpoint"}
    pool = tmp_path / "pool.toml"
    pool.write_text('[[deployment]]\nname = "d"\nendpoint = "https://r.openai.azure.com"\n')
    (d,) = load_pool_file(pool, environ={})
    actual = {
        "model": rendered_default(d.model),
        "aliases": f"`{list(d.aliases)}`",
        "priority": rendered_default(d.priority),
        "api_version": rendered_default(d.effective_api_version),
        "api_key_env": rendered_default(d.credential),
        "tpm": rendered_default(d.tpm),
        "rpm": rendered_default(d.rpm),
    }
    assert {k: v for k, v in documented.items() if k not in required} == actual

    # Every documented key is accepted together.
    pool.write_text(
        '[[deployment]]\nname = "d"\nendpoint = "https://r.openai.azure.com"\nmodel = "m"\n'
        'aliases = ["chat"]\npriority = 1\napi_version = "v1"\napi_key_env = "K"\n'
    )
    (d,) = load_pool_file(pool, environ={"K": "secret"})
    assert isinstance(d, Deployment)
    assert d.is_v1
    assert d.aliases == ("chat",)
