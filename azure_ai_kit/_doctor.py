"""`azure-ai-kit doctor`: load the configuration, get a token, ping every deployment, explain.

Pure parts (masking, probe choice, diagnosis, rendering) are plain functions; `run_doctor` does
the I/O, one attempt per probe (it reports, never retries), with an injectable resolver and clock.
"""

from __future__ import annotations

import difflib
import functools
import json
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from . import _exceptions as kit
from ._auth import SCOPE, Auth, StaticToken, make_auth
from ._deployment import DEFAULT_API_VERSION, Deployment
from ._settings import ALIASES

__all__ = ["FIXES", "Check", "DoctorConfig", "diagnose", "load_env_config", "run_doctor"]

#: Names people give Azure deployments most often (usually the model name): typo candidates.
COMMON_DEPLOYMENT_NAMES = (
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o4-mini", "o3-mini",
    "gpt-35-turbo", "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
    "dall-e-3", "gpt-image-1",
)  # fmt: skip

#: Problem → the likely fix (a template filled from the failed check). docs/doctor.md lists them.
FIXES = {
    "wrong_key": "the API key was refused: copy KEY 1 from the portal (resource -> Keys and "
    "Endpoint) of {resource} into AZURE_OPENAI_API_KEY",
    "missing_role": "give the signed-in principal the 'Cognitive Services OpenAI User' "
    "role on the resource (az role assignment create --role 'Cognitive Services OpenAI User' "
    "--assignee <principal> --scope <resource id>); new assignments take a few minutes",
    "expired_token": "the static AZURE_OPENAI_AD_TOKEN was refused: it expires after about an "
    "hour; unset it to sign in with DefaultAzureCredential, which refreshes tokens",
    "blocked": "the resource refuses all calls: {message}",
    "deployment_typo": "no deployment '{name}' on {host}: {guess}check AI Foundry -> Deployments "
    "(names are case-sensitive) and {variable}; a new deployment can take 5 minutes to appear",
    "api_version": "api-version {api} is not supported: set AZURE_OPENAI_API_VERSION (or "
    "OPENAI_API_VERSION) to " + DEFAULT_API_VERSION + " (latest GA), 2025-04-01-preview, or v1",
    "bad_route": "{host} has no such route: AZURE_OPENAI_ENDPOINT must be the resource URL only "
    "(https://<resource>.openai.azure.com) and api-version {api} must exist",
    "wrong_model_kind": "'{name}' cannot serve {kind} calls: {variable} must name a {kind} model",
    "dns": "cannot resolve {host} ({problem}): check the spelling of the resource name in "
    "AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com: copy it from the portal)",
    "unreachable": "{host} resolves but the connection failed: check firewall, private endpoint "
    "and proxy (HTTPS_PROXY) settings; for the emulator, is `azure-ai-kit emulator` running?",
    "timeout": "no answer within {timeout}s: check the network and proxy, or raise --timeout",
    "throttled": "throttled: retry after {retry_after}; raise the deployment's tokens-per-minute "
    "quota in AI Foundry (Deployments -> Edit) or add a pool member (AZURE_AI_KIT_CONFIG)",
    "content_filter": "Azure's content filter blocked the probe 'ping' ({categories}); "
    "unexpected: check the content filter configured on this deployment",
    "server_error": "Azure failed ({status}); usually transient: run doctor again later",
    "no_token": "no Entra ID token (see the credential check above)",
    "sign_in": "sign in with `az login` (Azure CLI); on Azure, enable a managed identity; or set "
    "AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET; or use AZURE_OPENAI_API_KEY",
    "no_endpoint": "set AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com in the "
    "environment or .env (`azure-ai-kit new` writes a .env.example), "
    "or try the emulator: AZURE_AI_KIT_EMULATOR=1",
}
_KIND_BY_ALIAS = {"chat": "chat", "code": "chat", "image": "image", "embedding": "embedding"}
# No image model accepts this size, so Azure answers 400 *after* auth (401) and deployment
# lookup (404) have passed: proof that both work, with no image generated or billed.
_PROBE_SIZE = "1x1"
_PROBES: dict[str, Callable[[Any, str], Any]] = {
    "chat": lambda client, name: client.chat("ping", model=name, max_tokens=1),
    "embedding": lambda client, name: client.embed("ping", model=name),
    "image": lambda client, name: client.generate_image("ping", model=name, size=_PROBE_SIZE),
}
_HEADER = ("DEPLOYMENT", "ALIASES", "PROBE", "API", "REGION", "STATUS", "LATENCY", "TOKENS LEFT")


@dataclass
class DoctorConfig:
    """`AzureAIClient` keyword arguments, their source, and whether to close their http_client."""

    kwargs: dict[str, Any]
    source: str
    close_http: bool = False


@dataclass
class Check:
    """The outcome of one deployment's probe; `problem` is a key of `FIXES`."""

    deployment: str
    endpoint: str
    aliases: tuple[str, ...]
    kind: str
    api: str
    status: str = "ok"
    ok: bool = True
    http_status: int | None = None
    region: str | None = None
    latency_ms: float | None = None
    remaining_tokens: int | None = None
    retry_after: float | None = None
    detail: str | None = None
    problem: str | None = None
    fix: str | None = None


def load_env_config() -> DoctorConfig:
    """Load the configuration as `AzureAIClient.from_env()` does; the emulator only when
    AZURE_AI_KIT_EMULATOR=1 asks for it, so a missing endpoint surfaces with its fix."""
    from ._settings import Settings, env_config

    settings = Settings.load()
    if settings.use_emulator:
        kwargs = env_config(asynchronous=False, fallback="emulator")
        return DoctorConfig(kwargs, "in-process emulator (AZURE_AI_KIT_EMULATOR=1)", True)
    pool = settings.config_file
    source = f"pool file {pool} (AZURE_AI_KIT_CONFIG)" if pool else "environment / .env"
    return DoctorConfig(env_config(asynchronous=False), source)


def describe_credential(credential: Any) -> dict[str, Any]:
    """What a credential is (`kind`: key, token, static; keys masked) and, for Entra ID,
    whether it yields a token: asking first separates "cannot sign in" from "no role"."""
    static = isinstance(credential, StaticToken)
    auth = None if static else make_auth(credential, asynchronous=False)
    if auth is not None and auth.kind == "key":
        label = "AzureKeyCredential" if auth.description == "AzureKeyCredential" else "API key"
        return {"kind": "key", "auth": f"{label} {auth.masked()}"}
    entry: dict[str, Any] = {"kind": "token", "auth": f"Entra ID via {type(credential).__name__}"}
    if static:
        entry = {"kind": "static", "auth": "static Entra ID token (AZURE_OPENAI_AD_TOKEN)"}
    try:
        credential.get_token(SCOPE)  # the token itself is never kept or shown
    except Exception as exc:  # any credential failure is a finding to report, not a crash
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return {**entry, "token_ok": False, "detail": f"{type(exc).__name__}: {first}",
                "fix": FIXES["sign_in"]}  # fmt: skip
    return {**entry, "token_ok": True, "detail": f"token acquired for {SCOPE}", "fix": None}


def probe_kind(deployment: Deployment) -> str:
    """Which call proves a deployment: from its alias, else from its model/name, else chat."""
    for alias in deployment.aliases:
        if alias in _KIND_BY_ALIAS:
            return _KIND_BY_ALIAS[alias]
    # Pool and emulator deployments may lack an alias; image/embedding models reject chat.
    name = (deployment.model or deployment.name).lower()
    if name.startswith(("dall-e", "gpt-image")):
        return "image"
    return "embedding" if "embedding" in name else "chat"


def closest_name(name: str, known: Sequence[str]) -> str | None:
    """The configured or common deployment name closest to a misspelt `name`, if any."""
    candidates = [k for k in dict.fromkeys((*known, *COMMON_DEPLOYMENT_NAMES)) if k != name]
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, trailing blanks trimmed."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in (header, *rows)]
    return "\n".join(line.rstrip() for line in lines)


_OPERATIONS = {"chat": "chat", "image": "image_generation", "embedding": "embeddings"}


def _api_label(d: Deployment, kind: str = "chat") -> str:
    """The route this deployment's probe takes: `v1`, or the classic route's api-version."""
    version = d.api_version_for(_OPERATIONS.get(kind, kind))
    return "v1" if version is None else version


def _azure_error(exc: BaseException) -> tuple[Any, str, str, str]:
    """(openai.APIStatusError or None, code, param, message); kit errors chain to the former."""
    import openai

    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, openai.APIStatusError):
        seen = seen.__cause__
    body = getattr(seen, "body", None)  # the inner object or the whole {"error": …}: both occur
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]
    if not isinstance(body, Mapping):
        return seen, "", "", str(exc) if seen is None else seen.message
    code, param, message = (str(body.get(k) or "") for k in ("code", "param", "message"))
    return seen, code, param, message


def expected_rejection(kind: str, status: int | None, code: str, param: str) -> str | None:
    """A 400 that still proves auth and deployment work, explained; None when it is a failure."""
    if status == 400 and kind == "image" and (param == "size" or "size" in code.lower()):
        return "rejected the 1x1 probe size (400) as intended: auth and deployment OK, no image"
    if status == 400 and kind == "chat" and param == "max_tokens":
        return "answers, but rejects max_tokens: a reasoning model (use max_completion_tokens)"
    return None


def diagnose(exc: BaseException, d: Deployment, ctx: Context) -> tuple[str, str]:
    """(problem, fix) for a failed probe: the `FIXES` key and its text, filled in."""
    import openai

    api_error, code, _, message = _azure_error(exc)
    status = api_error.status_code if api_error is not None else None
    variable = next((f"set {ALIASES[a]}" for a in d.aliases if a in ALIASES), "fix the name")
    fields: dict[str, Any] = {
        "name": d.name, "host": d.host, "resource": d.resource_endpoint, "api": _api_label(d),
        "variable": variable, "message": message, "status": status, "kind": probe_kind(d),
        "timeout": f"{ctx.timeout:g}", "guess": "",
    }  # fmt: skip
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    problem = "other"
    if isinstance(exc, kit.ContentFilteredError):
        problem, fields["categories"] = "content_filter", ", ".join(exc.filtered_categories)
    elif isinstance(exc, kit.RateLimitedError):
        wait = exc.retry_after
        problem, fields["retry_after"] = "throttled", "a while" if wait is None else f"{wait:.0f}s"
    elif "api version" in message.lower() or "api-version" in message.lower():
        problem = "api_version"
    elif isinstance(exc, kit.AuthenticationError):
        problem = {"key": "wrong_key", "static": "expired_token"}.get(ctx.auth_kind, "missing_role")
        problem = "blocked" if status == 403 and "blocked" in message.lower() else problem
    elif isinstance(exc, kit.DeploymentNotFoundError) and code == "DeploymentNotFound":
        guess = closest_name(d.name, ctx.other_names)
        problem, fields["guess"] = "deployment_typo", f"did you mean '{guess}'? " * bool(guess)
    elif status == 404:
        problem = "bad_route"
    elif status == 400 and code == "OperationNotSupported":
        problem = "wrong_model_kind"
    elif isinstance(cause, openai.APITimeoutError):
        problem = "timeout"
    elif isinstance(cause, (openai.APIConnectionError, OSError)):
        fields["problem"] = ctx.host_problem(d.host)
        problem = "unreachable" if fields["problem"] is None else "dns"
    elif status is not None and status >= 500:
        problem = "server_error"
    return problem, FIXES.get(problem, "{message}").format(**fields)  # other: as Azure said


def run_doctor(
    config: DoctorConfig | Callable[[], DoctorConfig],
    *,
    out: TextIO | None = None,
    json_output: bool = False,
    timeout: float = 10.0,
    resolver: Callable[[str, int], object] = socket.getaddrinfo,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """Check the configuration, credentials and every deployment; print a report to `out`.

    Returns 0 when all is well, 1 when a check fails, 5 when the configuration cannot be
    loaded. `resolver` (like `socket.getaddrinfo`) only explains connection errors.
    """
    import httpx

    from ._client import AzureAIClient
    from ._retry import RetryPolicy

    out = out or sys.stdout
    http: Any = None
    try:
        loaded = config if isinstance(config, DoctorConfig) else config()
        kwargs = dict(loaded.kwargs)
        kwargs.pop("timeout", None)  # --timeout wins: a doctor should answer quickly
        http, close_http = kwargs.pop("http_client", None), loaded.close_http
        if http is None:
            http, close_http = httpx.Client(timeout=httpx.Timeout(timeout)), True
        # One attempt and no sleeping: a doctor reports a 429, it does not wait it out.
        once = RetryPolicy(max_attempts=1, max_throttled_attempts=0)
        common: dict[str, Any] = {"retry": once, "http_client": http,
                                  "timeout": timeout, "sleep": lambda _: None}  # fmt: skip
        base = AzureAIClient(**kwargs, **common)
        creds: dict[int, dict[str, Any]] = {}
        auths: list[Auth] = []  # to scrub keys from the output, should an error text echo one
        for cred in [kwargs.get("credential"), *(d.credential for d in base.deployments)]:
            if cred is not None and id(cred) not in creds:
                creds[id(cred)] = describe_credential(cred)
                if creds[id(cred)]["kind"] == "key":
                    auths.append(make_auth(cred, asynchronous=False))
    except kit.ConfigurationError as exc:
        if http is not None and close_http:
            http.close()
        fix = FIXES["no_endpoint"] if "AZURE_OPENAI_ENDPOINT" in exc.message else None
        doc = {"ok": False, "exit_code": 5, "config_error": exc.message, "fix": fix}
        text = f"configuration error: {exc.message}" + (f"\nfix: {fix}" if fix else "")
        out.write((json.dumps(doc, indent=2) if json_output else text) + "\n")
        return 5

    @functools.cache  # asked only after a connection error, once per host
    def host_problem(host: str) -> str | None:
        try:
            resolver(host, 443)
        except OSError as exc:
            return str(exc) or type(exc).__name__
        return None

    checks: list[Check] = []
    try:
        for d in base.deployments:
            cred = creds[id(d.credential if d.credential is not None else kwargs["credential"])]
            kind = probe_kind(d)
            check = Check(d.name, d.endpoint, d.aliases, kind, _api_label(d, kind))
            checks.append(check)
            if not cred.get("token_ok", True):
                check.status, check.ok, check.problem = "skipped", False, "no_token"
                check.fix = FIXES["no_token"]
                continue
            # A client per deployment: model= could not single out one member of a pool.
            client = AzureAIClient(deployments=[d], credential=kwargs.get("credential"), **common)
            started = clock()
            try:
                check.region = _PROBES[check.kind](client, d.name).region
            except Exception as exc:  # every failure is a finding: classify and explain it
                if not _record_failure(check, exc):
                    others = [o.name for o in base.deployments if o.name != d.name]
                    ctx = Context(cred["kind"], others, host_problem, timeout)
                    check.problem, check.fix = diagnose(exc, d, ctx)
            check.latency_ms = round((clock() - started) * 1000.0, 1)
            quota = client.status()[0].remaining_tokens
            check.remaining_tokens = quota if quota is not None else check.remaining_tokens
    finally:
        if close_http:
            http.close()
    ok = all(c.ok for c in checks) and all(c.get("token_ok", True) for c in creds.values())
    modes = {"v1" if c.api == "v1" else f"classic, api-version {c.api}" for c in checks}
    config_doc = {"source": loaded.source, "endpoints": sorted({c.endpoint for c in checks}),
                  "api": sorted(modes), "auth": list(creds.values())}  # fmt: skip
    doc = {"ok": ok, "exit_code": 0 if ok else 1, "config": config_doc,
           "checks": [asdict(c) for c in checks]}  # fmt: skip
    # Error texts come from the network and may echo a key: scrub before rendering, so a
    # key holding a quote or a backslash cannot hide behind JSON escaping.
    doc = _scrubbed(doc, auths)
    text = json.dumps(doc, indent=2) if json_output else render_text(doc)
    for auth in auths:
        text = auth.scrub(text)
    out.write(text + "\n")
    return 0 if ok else 1


def _scrubbed(value: Any, auths: list[Auth]) -> Any:
    """`value` (a report document) with every key in `auths` replaced in its strings."""
    if isinstance(value, str):
        for auth in auths:
            value = auth.scrub(value)
        return value
    if isinstance(value, dict):
        return {k: _scrubbed(v, auths) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v, auths) for v in value]
    return value


@dataclass
class Context:
    """What `diagnose` needs besides the error; `host_problem(host)` is None when DNS works."""

    auth_kind: str
    other_names: Sequence[str]
    host_problem: Callable[[str], str | None]
    timeout: float


def _record_failure(check: Check, exc: Exception) -> bool:
    """Note what the failed response said; True when it still proves the deployment works."""
    api_error, code, param, _ = _azure_error(exc)
    if api_error is not None:
        check.http_status = api_error.status_code
        headers = api_error.response.headers
        check.region = headers.get("x-ms-region")
        left = headers.get("x-ratelimit-remaining-tokens", "")
        # "0" and "-1" mean "unknown" (docs/wire.md, "Response headers").
        check.remaining_tokens = int(left) if left.isdigit() and int(left) > 0 else None
    check.detail = expected_rejection(check.kind, check.http_status, code, param)
    if check.detail is None:
        check.status, check.ok, check.detail = type(exc).__name__, False, str(exc)
        wait = exc.retry_after if isinstance(exc, kit.RateLimitedError) else None
        check.retry_after = None if wait is None else round(wait, 1)  # router time drifts
    return check.ok


def render_text(doc: Mapping[str, Any]) -> str:
    """The human report: configuration, credential checks, the table, then fixes."""
    config, checks = doc["config"], doc["checks"]
    lines = [f"Configuration ({config['source']})"]
    lines += [f"  endpoint    {e}" for e in config["endpoints"]]
    lines.append(f"  api         {'; '.join(config['api'])}")
    for entry in config["auth"]:  # a token check only for Entra ID credentials
        lines.append(f"  auth        {entry['auth']}")
        if "token_ok" in entry:
            mark = "ok" if entry["token_ok"] else "FAILED"
            lines.append(f"  token       {mark}: {entry['detail']}")
            lines += [f"  fix         {entry['fix']}"] if entry["fix"] else []
    same_name = len({c["deployment"] for c in checks}) < len(checks)
    rows = [
        (f"{c['deployment']}@{c['endpoint']}" if same_name else c["deployment"],
         ",".join(c["aliases"]) or "-", c["kind"], c["api"], c["region"] or "-", c["status"],
         "-" if c["latency_ms"] is None else f"{c['latency_ms']:.0f} ms",
         "-" if c["remaining_tokens"] is None else str(c["remaining_tokens"]))
        for c in checks
    ]  # fmt: skip
    lines += ["", render_table(_HEADER, rows), ""]
    lines += [f"note {c['deployment']}: {c['detail']}" for c in checks if c["ok"] and c["detail"]]
    failed = [c for c in checks if not c["ok"]]
    by_fix: dict[str, list[Any]] = {}  # one wrong key fails every deployment: say it once
    for c in failed:
        by_fix.setdefault(c["fix"], []).append(c)
    for fix, group in by_fix.items():
        why = " ".join((group[0]["detail"] or "").split())
        lines.append(f"FAIL {', '.join(c['deployment'] for c in group)}: {group[0]['status']}")
        lines += [f"     why: {why[:217]}{'...' * (len(why) > 217)}"] if why else []
        lines.append(f"     fix: {fix}")
    ok, bad = f"All {len(checks)} deployments OK.", f"{len(failed)} of {len(checks)} checks failed."
    lines.append(ok if doc["ok"] else bad)
    return "\n".join(lines)
