"""`python -m bench`: run every benchmark and write `docs/benchmarks.md` (+ the chart).

`--quick` takes fewer samples and a smaller goodput workload and writes to `build/bench-quick/`
(not the published page): an end-to-end smoke check of every benchmark. It exits with status 1
when it takes longer than `--budget` seconds (60), so a slow-down of the benchmarks themselves
shows up; it is not part of `make test`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from . import chart, failover, goodput, imports, memory, overhead, routing
from .report import Report, machine

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUICK_DOCS = ROOT / "build" / "bench-quick"
CHART = "benchmarks-utilisation.png"


def _quiet_third_parties() -> None:
    # The load balancer warns on every "No backend available!"; LiteLLM logs each 429.
    for name in ("openai-priority-loadbalancer", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke check")
    parser.add_argument("--docs", type=Path, help="where to write the report (default: docs/)")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="--quick fails past this many seconds"
    )
    args = parser.parse_args(argv)
    args.docs = args.docs or (QUICK_DOCS if args.quick else DOCS)
    _quiet_third_parties()
    started = time.perf_counter()
    about = machine()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    quick = args.quick
    log("import time …")
    import_rows = imports.run(repetitions=3 if quick else 15)
    log("per-call overhead …")
    if quick:
        overhead_rows = overhead.run(repetitions=3, batch_seconds=0.03, memory_seconds=0.2)
    else:
        overhead_rows = overhead.run()
    log(f"peak memory of a {memory.STREAM_KIB} KiB stream …")
    stream_memory = memory.run()
    log("failover latency …")
    failover_result = failover.run(pairs=50 if quick else 300)
    log("routing cost by pool size …")
    routing_table = routing.table(
        routing.measure(calls=200, rounds=3) if quick else routing.measure(calls=2_000, rounds=9)
    )
    log("goodput under throttling …")
    goodput_rows = goodput.run(log=log, requests=30 if quick else goodput.REQUESTS)

    args.docs.mkdir(parents=True, exist_ok=True)
    chart_note: str
    if chart.available():
        chart.draw(goodput_rows, args.docs / CHART)
        chart_note = CHART
    else:
        chart_note = "matplotlib is not installed (`pip install -e '.[bench]'`)"
    command = "make bench" + (" (python -m bench --quick)" if args.quick else "")
    report = Report(
        command=command,
        machine=about,
        overhead=overhead_rows,
        imports=import_rows,
        goodput=goodput_rows,
        failover=failover_result,
        stream_memory=stream_memory,
        chart=chart_note,
        seconds=time.perf_counter() - started,
        routing=routing_table,
    )
    page = args.docs / "benchmarks.md"
    page.write_text(report.markdown() + _pacing_block(page), encoding="utf-8")
    log(f"wrote {args.docs / 'benchmarks.md'} in {report.seconds:.0f} s")
    if args.quick and report.seconds > args.budget:
        log(f"the quick run took longer than its {args.budget:.0f} s budget")
        return 1
    return 0


def _pacing_block(page: Path) -> str:
    """The pacing section `python -m bench.pacing` wrote (it needs Redis and several
    processes, so it is kept from its own run rather than measured again here)."""
    from .pacing import END, START

    old = page.read_text(encoding="utf-8") if page.exists() else ""
    if START not in old or END not in old:
        return ""
    return "\n" + old[old.index(START) : old.index(END) + len(END)] + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
