"""Per-call cost in CPU instructions, counted by valgrind's callgrind: repeatable to the digit.

Timing on a shared two-core VM swings ±15 % from run to run, too much to judge a 5 % target.
Instruction counts do not depend on what else the machine does. Each (client, row) runs in
its own process under callgrind with instrumentation off (`--instr-atstart=no`): imports,
client construction and the warm-up calls run uncounted, then the process waits; the parent
switches counting on (`callgrind_control -i on`), the process makes N calls and leaves with
`os._exit` (no interpreter teardown). The few instructions between switching on and the first
call are measured once per API by a run with N = 0 and subtracted, so
(count − that) / N is the cost of one call. The garbage collector is off for the measured
calls (as in `timeit`) and `PYTHONHASHSEED=0`, so a second run gives the same digits.

Rows: sync, sync stream, async, async stream (20-chunk streams), `respond` once the kit and
the emulator have it, and 1,000-chunk streams, from which the cost of one more chunk follows:
(cost of the 1,000-chunk call − cost of the 20-chunk call) / 980. Below the table, the peak
Python memory of a 640 KiB stream (`bench/memory.py`), also repeatable. Runs go in parallel,
one per core; a full run takes a few minutes on two cores, `--quick` (fewer calls) about a
minute, so this is not part of `make bench`:

    python -m bench.instructions            # writes docs/benchmarks-instructions.md

Needs `valgrind` (with `callgrind_control`) on PATH (Debian: `apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LONG_CHUNKS", "ROWS", "Spec", "main", "measure"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-instructions.md"
CLIENTS = ("openai", "azure-ai-kit")
LONG_CHUNKS = 1000
TARGET = 1.05


@dataclass(frozen=True)
class Spec:
    """One row: the API, what is called, and the JSON events per streamed reply."""

    label: str
    api: str  # "sync" or "async"
    kind: str  # "chat", "stream" or "respond"
    chunks: int = 0

    def args(self, client: str, calls: int, warm_up: int) -> list[str]:
        """The `--run` arguments of one measured process."""
        return [client, self.api, self.kind, str(self.chunks), str(calls), str(warm_up)]


def _rows() -> tuple[Spec, ...]:
    from ._canned import STREAM_CHUNKS

    return (
        Spec("sync", "sync", "chat"),
        Spec("sync stream", "sync", "stream", STREAM_CHUNKS),
        Spec("async", "async", "chat"),
        Spec("async stream", "async", "stream", STREAM_CHUNKS),
        Spec("respond", "sync", "respond"),
        Spec(f"sync stream, {LONG_CHUNKS:,} chunks", "sync", "stream", LONG_CHUNKS),
        Spec(f"async stream, {LONG_CHUNKS:,} chunks", "async", "stream", LONG_CHUNKS),
    )


ROWS = _rows()


# --- the measured process ------------------------------------------------------------------
def _build(client: str, api: str, kind: str, chunks: int) -> Callable[[], Any]:
    from . import respond
    from ._canned import record, stream
    from .contenders import ASYNC_BUILDERS, SYNC_BUILDERS

    if kind == "respond":
        found = respond.builders()
        if isinstance(found, str):
            raise SystemExit(found)
        canned, (sync_b, async_b) = found
        return (sync_b if api == "sync" else async_b)[client](canned.transport())
    canned = stream(chunks=chunks) if kind == "stream" else record(stream=False)
    builders: Any = SYNC_BUILDERS if api == "sync" else ASYNC_BUILDERS
    return builders[client](canned.transport(), kind == "stream")  # type: ignore[no-any-return]


def _wait_for_counting() -> None:
    # As timeit does: whether a full collection of everything the imports made falls inside
    # the measured calls or not would move the count by more than the difference we measure.
    gc.collect()
    gc.disable()
    print(f"ready {os.getpid()}", flush=True)
    sys.stdin.readline()  # the parent switches counting on, then writes a line


def _workload(client: str, api: str, kind: str, chunks: int, calls: int, warm_up: int) -> None:
    """What each callgrind process executes: warm up, wait, `calls` counted calls, exit."""
    call = _build(client, api, kind, chunks)
    if api == "sync":
        for _ in range(warm_up):
            call()
        _wait_for_counting()
        for _ in range(calls):
            call()
        os._exit(0)  # interpreter teardown is not the call's cost

    async def run() -> None:
        for _ in range(warm_up):
            await call()
        _wait_for_counting()
        for _ in range(calls):
            await call()
        os._exit(0)

    asyncio.run(run())


# --- the parent ----------------------------------------------------------------------------
def _count(args: list[str]) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
        sys.executable, "-m", "bench.instructions", "--run", *args,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
        env=env,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if line[:1] == ["ready"]:
            subprocess.run(
                ["callgrind_control", "-i", "on", line[1]], check=True, capture_output=True
            )
            process.stdin.write("go\n")
            process.stdin.flush()
        _, err = process.communicate()
    match = re.search(r"Collected\s*:\s*(\d+)", err)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind run {args} failed:\n{err[-2000:]}")
    return int(match.group(1))


@dataclass
class Result:
    """Instructions per call for each row and client; `notes` for rows not measured."""

    per_call: dict[tuple[str, str], float]
    notes: dict[str, str]
    seconds: float


def measure(*, quick: bool = False, log: Callable[[str], None] = print) -> Result:
    """Instructions per call for every (row, client), runs in parallel, one per core."""
    from . import respond

    started = time.perf_counter()
    notes: dict[str, str] = {}
    found = respond.builders()
    if isinstance(found, str):
        notes["respond"] = found
    specs = [s for s in ROWS if s.label not in notes]
    jobs: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        long = spec.chunks > 100
        calls = (1 if quick else 5) if long else (10 if quick else 100)
        warm_up = 3 if long else (10 if quick else 50)
        for client in CLIENTS:
            jobs[(spec.label, client)] = spec.args(client, calls, warm_up)
    for api in ("sync", "async"):  # what counting costs before the first call and after the last
        jobs[(f"null {api}", "openai")] = ["openai", api, "chat", "0", "0", "0"]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(jobs, pool.map(_count, jobs.values()), strict=True))
    per_call: dict[tuple[str, str], float] = {}
    for spec in specs:
        for client in CLIENTS:
            calls = int(jobs[(spec.label, client)][4])
            null = counts[(f"null {spec.api}", "openai")]
            per_call[(spec.label, client)] = (counts[(spec.label, client)] - null) / calls
            log(f"{client} {spec.label}: {per_call[(spec.label, client)]:,.0f} instructions/call")
    return Result(per_call, notes, time.perf_counter() - started)


def _ratio_row(label: str, base: float, kit: float, target: bool) -> str:
    ratio = kit / base
    verdict = ("met" if ratio <= TARGET else "**missed**") if target else "–"
    return f"| {label} | {base:,.0f} | {kit:,.0f} | {ratio:.3f} | {verdict} |"


def report(result: Result, memory_lines: list[str], command: str) -> str:
    """The markdown page."""
    import openai

    from azure_ai_kit import __version__

    from ._canned import STREAM_CHUNKS

    lines = [
        "# Benchmarks: instructions per call",
        "",
        f"Generated by `{command}` — do not edit by hand. Counted with",
        "valgrind's callgrind, so the numbers repeat exactly on the same machine and versions",
        "whatever else runs; see `bench/instructions.py` for the method.",
        "",
        f"- Python {platform.python_version()} on {platform.machine()}; azure-ai-kit "
        f"{__version__}, openai {openai.__version__}; took {result.seconds:.0f} s",
        "",
        f"The same canned Azure replies as in [benchmarks.md](benchmarks.md); streams carry "
        f"{STREAM_CHUNKS} JSON events (the prompt-filter event, the role chunk, content chunks, "
        "the finish and the usage chunk), all read.",
        "",
        f"| Row | openai | azure-ai-kit | kit/openai | target ≤ {TARGET} |",
        "|---|---:|---:|---:|---|",
    ]
    per_call = result.per_call
    for spec in ROWS:
        if spec.label in result.notes:
            lines.append(f"| {spec.label} | – | – | – | {result.notes[spec.label]} |")
            continue
        base, kit = per_call[(spec.label, "openai")], per_call[(spec.label, "azure-ai-kit")]
        lines.append(_ratio_row(spec.label, base, kit, target=spec.chunks <= STREAM_CHUNKS))
    extra = LONG_CHUNKS - STREAM_CHUNKS
    lines += [
        "",
        f"**Per chunk.** One more chunk costs (the {LONG_CHUNKS:,}-chunk call − the "
        f"{STREAM_CHUNKS}-chunk call) / {extra}:",
        "",
        "| Per chunk | openai | azure-ai-kit | kit/openai | target ≤ 1.05 |",
        "|---|---:|---:|---:|---|",
    ]
    for api in ("sync", "async"):
        long, short = f"{api} stream, {LONG_CHUNKS:,} chunks", f"{api} stream"
        base, kit = (
            (per_call[(long, c)] - per_call[(short, c)]) / extra for c in ("openai", "azure-ai-kit")
        )
        lines.append(_ratio_row(f"{api} stream, one chunk", base, kit, target=True))
    lines += ["", "## Peak memory of a long stream", "", *memory_lines, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and write the report (or, with --run, be the workload of one callgrind run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--run", nargs=6, metavar=("CLIENT", "API", "KIND", "CHUNKS", "CALLS", "WARM_UP")
    )
    parser.add_argument("--quick", action="store_true", help="fewer calls (about a minute)")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    if args.run:
        client, api, kind, chunks, calls, warm_up = args.run
        _workload(client, api, kind, int(chunks), int(calls), int(warm_up))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed; apt-get install valgrind", file=sys.stderr)
        return 1
    from . import memory

    result = measure(quick=args.quick, log=lambda m: print(m, file=sys.stderr))
    memory_lines = memory.table(memory.run())
    command = "python -m bench.instructions" + (" --quick" if args.quick else "")
    args.docs.write_text(report(result, memory_lines, command), encoding="utf-8")
    print(f"wrote {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
