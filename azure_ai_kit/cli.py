"""The ``azure-ai-kit`` command line.

Each subcommand is a ``_add_<name>(subparsers)`` function that registers its arguments and a
``handler(args) -> int``; :func:`main` only parses and dispatches, so new subcommands (``doctor``…)
slot in without touching the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]

_ENV_SNIPPET = """\
# Paste into another shell: azure-ai-kit doctor, the samples and the starters then use it.
export AZURE_OPENAI_ENDPOINT={endpoint}
export AZURE_OPENAI_API_KEY={key}
export OPENAI_API_VERSION=2024-10-21
{deployments}
# v1 routes: openai.OpenAI(base_url="{endpoint}/openai/v1/", api_key="{key}")"""

# The alias variables and the emulator deployment each names, when the emulator has it.
_ALIAS_VARIABLES = {
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4o-mini",
    "AZURE_OPENAI_CODE_DEPLOYMENT": "gpt-4.1",
    "AZURE_OPENAI_IMAGE_DEPLOYMENT": "dall-e-3",
    "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "text-embedding-3-small",
}


def _add_emulator(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run the local Azure OpenAI emulator over HTTP",
        description="Serve a deterministic local Azure OpenAI emulator until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    parser.add_argument("--config", metavar="TOML", help="emulator config file (deployments, key)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback address (the emulator's key is not a secret)",
    )
    parser.set_defaults(handler=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    from .emulator import Emulator
    from .emulator._server import LOOPBACK_HOSTS, base_url, bind, run

    try:
        import uvicorn  # noqa: F401  (checked before the banner promises a server)
    except ImportError:
        print(
            "error: the emulator's HTTP server needs uvicorn: pip install 'azure-ai-kit[server]'. "
            "(In tests and scripts, AzureAIClient.for_emulator() needs no server.)",
            file=sys.stderr,
        )
        return 1
    if args.host not in LOOPBACK_HOSTS and not args.allow_remote:
        print(
            f"error: refusing to bind {args.host!r}: the emulator is for loopback use. "
            "Pass --allow-remote to expose it anyway.",
            file=sys.stderr,
        )
        return 2
    try:
        emulator = Emulator.from_toml(args.config) if args.config else Emulator.default()
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: cannot load {args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot bind {args.host}:{args.port}: {exc} (try --port 0)", file=sys.stderr)
        return 1
    endpoint = base_url(sock)
    key = emulator.api_key or ""
    print(f"Azure OpenAI emulator on {endpoint}")
    print(f"API key: {key}")
    print(f"Deployments: {', '.join(sorted(emulator.deployments))}")
    deployments = "\n".join(
        f"export {variable}={name}"
        for variable, name in _ALIAS_VARIABLES.items()
        if name in emulator.deployments
    )
    print(_ENV_SNIPPET.format(endpoint=endpoint, key=key, deployments=deployments))
    print("Press Ctrl-C to stop.", flush=True)
    try:
        run(emulator, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def _add_doctor(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the configuration, credentials and every deployment",
        description="Load the configuration as AzureAIClient.from_env() does, get a token, "
        "make one minimal call per deployment and explain each failure. Exit codes: "
        "0 all ok, 1 a check failed, 2 usage, 5 the configuration cannot be loaded.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=10.0,
        metavar="S",
        help="seconds per request (default 10)",
    )
    parser.set_defaults(handler=_run_doctor)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _run_doctor(args: argparse.Namespace) -> int:
    from ._doctor import load_env_config, run_doctor

    return run_doctor(load_env_config, json_output=args.json, timeout=args.timeout)


def _add_new(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "new",
        help="write a runnable starter (app.py, .env.example, README.md) into a folder",
        description="Write a starter into DIR, a new or empty folder. Each runs as written on "
        "the local emulator: cd DIR && AZURE_AI_KIT_EMULATOR=1 python app.py",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a starter (see --list)")
    parser.add_argument("dir", nargs="?", metavar="DIR", help="the folder to write into")
    parser.add_argument("--list", action="store_true", help="list the starters")
    parser.set_defaults(handler=_run_new)


def _run_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ._new import TEMPLATES, write_template

    if args.list or args.name is None:
        width = max(map(len, TEMPLATES))
        for name, template in TEMPLATES.items():
            print(f"{name:<{width}}  {template.summary}")
        if not args.list:
            print("\nusage: azure-ai-kit new NAME DIR", file=sys.stderr)
        return 0 if args.list else 2
    if args.dir is None:
        print(f"error: say where to write it: azure-ai-kit new {args.name} DIR", file=sys.stderr)
        return 2
    try:
        written = write_template(args.name, Path(args.dir))
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"\nNext: cd {args.dir} && AZURE_AI_KIT_EMULATOR=1 python app.py")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="azure-ai-kit", description="Azure OpenAI toolkit.")
    parser.add_argument("--version", action="version", version=f"azure-ai-kit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_new(subparsers)
    _add_doctor(subparsers)
    _add_emulator(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``azure-ai-kit`` command; returns the process exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and usage errors: report the code instead of exiting
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
