"""Per-call cost in CPU instructions, counted by valgrind's callgrind: repeatable run to run.

Timing on a shared two-core VM swings ±15 % from run to run, too much to judge a 5 % target.
Instruction counts do not depend on what else the machine does. One process per client and
API runs under callgrind with instrumentation off (`--instr-atstart=no`), so imports, client
construction and warm-up calls run uncounted and fast. Before each row's calls it stops and
waits; the parent switches counting on (`callgrind_control -i on`), reads the running total,
lets it make N calls, reads the total again and switches counting off. (difference − that of
an empty row) / N is the cost of one call; the empty row is what the hand-over itself costs.
The garbage collector is off for the counted calls (as in `timeit`) and `PYTHONHASHSEED=0`;
two runs agree to within 0.05 % on the short rows and 0.2 % on the 1,000-chunk rows (one or
two calls each), against ±15 % for timings on the same machine.

Rows: sync, sync stream, async, async stream (20-chunk streams), `respond` once the kit and
the emulator have it, and 1,000-chunk streams, from which the cost of one more chunk follows:
(cost of the 1,000-chunk call − cost of the 20-chunk call) / 980. Below the table, the peak
Python memory of a 640 KiB stream (`bench/memory.py`), also repeatable. The four processes
run in parallel, one per core: about a minute on two cores (`--quick` makes fewer calls, for
nearly the same counts). Not part of `make bench`:

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

__all__ = ["LONG_CHUNKS", "ROWS", "Spec", "counted", "events", "main", "measure"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-instructions.md"
CLIENTS = ("openai", "azure-ai-kit")
LONG_CHUNKS = 1000
TARGET = 1.05
NULL = "nothing"  # the empty row: what switching counting on and off costs


@dataclass(frozen=True)
class Spec:
    """One row: the API, what is called, and the JSON events per streamed reply."""

    label: str
    api: str  # "sync" or "async"
    kind: str  # "chat", "stream" or "respond"
    chunks: int = 0


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


def _plan(api: str, quick: bool) -> list[tuple[Spec, int, int]]:
    """(row, counted calls, warm-up calls) for one API, led by the empty row that measures
    what counting itself costs."""
    from . import respond

    plan = [(Spec(NULL, api, "chat"), 0, 0)]
    for spec in ROWS:
        if spec.api != api or (spec.kind == "respond" and isinstance(respond.builders(), str)):
            continue
        if spec.chunks > 100:  # one long call already warms every per-chunk path
            plan.append((spec, 1 if quick else 2, 1))
        else:  # counts barely move, so a few dozen calls pin the per-call cost
            plan.append((spec, 5 if quick else 30, 10 if quick else 50))
    return plan


def _checkpoint(message: str) -> None:
    print(message, flush=True)
    sys.stdin.readline()  # the parent switches counting on or off, then writes a line


def _workload(client: str, api: str, quick: bool) -> None:
    """What each callgrind process executes: per row, uncounted warm-up, then counted calls."""
    plan = _plan(api, quick)
    calls: dict[str, Callable[[], Any]] = {NULL: lambda: None}
    calls.update((s.label, _build(client, api, s.kind, s.chunks)) for s, n, _ in plan if n)

    def begin(spec: Spec) -> None:
        # As timeit does: whether a full collection of everything the imports made falls
        # inside the measured calls or not would move the count by more than we measure.
        gc.collect()
        gc.disable()
        _checkpoint(f"ready {os.getpid()} {spec.label}")

    def end() -> None:
        _checkpoint("done")
        gc.enable()

    if api == "sync":
        for spec, n, warm_up in plan:
            call = calls[spec.label]
            for _ in range(warm_up):
                call()
            begin(spec)
            for _ in range(n):
                call()
            end()
        os._exit(0)  # interpreter teardown is not the calls' cost

    async def run() -> None:
        for spec, n, warm_up in plan:
            call = calls[spec.label]
            for _ in range(warm_up):
                await call()
            begin(spec)
            for _ in range(n):
                await call()
            end()
        os._exit(0)

    asyncio.run(run())


# --- the parent ----------------------------------------------------------------------------
def _control(pid: str, *args: str) -> str:
    done = subprocess.run(
        ["callgrind_control", *args, pid], check=True, capture_output=True, text=True
    )
    return done.stdout


def events(pid: str) -> dict[str, int]:
    """Every event counted so far in the callgrind process `pid` (summed over threads):
    `Ir` (instructions), and with `--cache-sim=yes` the cache misses (`I1mr`, `DLmr`, …)."""
    shown = _control(pid, "-e")
    header = re.search(r"Totals:\s*(.+)", shown)
    if header is None:
        raise RuntimeError(f"callgrind_control printed no totals for {pid}:\n{shown}")
    names = header.group(1).split()
    counts = dict.fromkeys(names, 0)
    for line in re.findall(r"Th\s+\d+\s+(.+)", shown):  # no thread lines before any count
        for name, value in zip(names, line.split(), strict=False):
            counts[name] += int(value.replace(",", ""))
    return counts


def counted(
    workload: list[str], *, options: tuple[str, ...] = (), seed: int = 0
) -> dict[str, dict[str, int]]:
    """Run `python -m <workload>` under callgrind (plus `options`) and count every event of
    each row it announces (`ready <pid> <label>` … `done`), with counting on only then."""
    command = [
        "valgrind", "--tool=callgrind", *options, "--instr-atstart=no",
        "--callgrind-out-file=/dev/null", sys.executable, "-m", *workload,
    ]  # fmt: skip
    counts: dict[str, dict[str, int]] = {}
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        stdin, stdout = process.stdin, process.stdout
        while (line := stdout.readline()).startswith("ready "):
            _, pid, label = line.rstrip("\n").split(" ", 2)
            _control(pid, "-i", "on")
            start = events(pid)
            stdin.write("go\n")
            stdin.flush()
            if stdout.readline() != "done\n":
                break
            end = events(pid)
            counts[label] = {name: end[name] - start.get(name, 0) for name in end}
            _control(pid, "-i", "off")
            stdin.write("next\n")
            stdin.flush()
        _, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"callgrind run of {' '.join(workload)} failed:\n{err[-2000:]}")
    return counts


def _count(client: str, api: str, quick: bool) -> dict[str, int]:
    """Instructions counted per row, in one callgrind process for `client` and `api`."""
    rows = counted(["bench.instructions", "--run", client, api, str(int(quick))])
    return {label: found.get("Ir", 0) for label, found in rows.items()}


@dataclass
class Result:
    """Instructions per call for each row and client; `notes` for rows not measured."""

    per_call: dict[tuple[str, str], float]
    notes: dict[str, str]
    seconds: float


def measure(*, quick: bool = False, log: Callable[[str], None] = print) -> Result:
    """Instructions per call for every (row, client): one process per client and API,
    run in parallel, one per core."""
    from . import respond

    started = time.perf_counter()
    found = respond.builders()
    notes = {"respond": found} if isinstance(found, str) else {}
    jobs = [(client, api) for client in CLIENTS for api in ("sync", "async")]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = list(pool.map(lambda job: _count(job[0], job[1], quick), jobs))
    per_call: dict[tuple[str, str], float] = {}
    for (client, api), counts in zip(jobs, counted, strict=True):
        for spec, calls, _ in _plan(api, quick):
            if calls:
                per_call[(spec.label, client)] = (counts[spec.label] - counts[NULL]) / calls
                log(f"{client} {spec.label}: {per_call[(spec.label, client)]:,.0f} per call")
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
        "valgrind's callgrind, so the numbers repeat on the same machine and versions whatever",
        "else runs (two runs agree to within 0.05 %; 0.2 % for the 1,000-chunk rows); see",
        "`bench/instructions.py` for the method. Instructions are not the whole cost: why the",
        "timed ratios of [benchmarks.md](benchmarks.md) are higher is counted in",
        "[benchmarks-cache.md](benchmarks-cache.md).",
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
    parser.add_argument("--run", nargs=3, metavar=("CLIENT", "API", "QUICK"))
    parser.add_argument("--quick", action="store_true", help="fewer calls (about a minute)")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    if args.run:
        client, api, quick = args.run
        _workload(client, api, quick == "1")
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
