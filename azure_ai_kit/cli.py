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
# Plain openai client (classic Azure routes):
export AZURE_OPENAI_ENDPOINT={endpoint}
export AZURE_OPENAI_API_KEY={key}
export OPENAI_API_VERSION=2024-10-21
# v1 routes: openai.OpenAI(base_url="{endpoint}/openai/v1/", api_key="{key}")"""


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
    print(_ENV_SNIPPET.format(endpoint=endpoint, key=key))
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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azure-ai-kit", description="Azure OpenAI toolkit.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_emulator(subparsers)
    _add_doctor(subparsers)
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
