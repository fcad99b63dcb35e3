"""`python -m bench`: run every benchmark and write `docs/benchmarks.md` (+ the chart).

`--quick` takes fewer samples and a smaller goodput workload: an end-to-end smoke check
(well under a minute on two cores), for trying the code, not for publishing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from . import chart, failover, goodput, imports, memory, overhead
from .report import Report, machine

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHART = "benchmarks-utilisation.png"


def _quiet_third_parties() -> None:
    # The load balancer warns on every "No backend available!"; LiteLLM logs each 429.
    for name in ("openai-priority-loadbalancer", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples, faster")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the report")
    args = parser.parse_args(argv)
    _quiet_third_parties()
    started = time.perf_counter()
    about = machine()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    quick = args.quick
    log("import time …")
    import_rows = imports.run(repetitions=3 if quick else 9)
    log("per-call overhead …")
    if quick:
        overhead_rows = overhead.run(repetitions=3, batch_seconds=0.03, memory_seconds=0.2)
    else:
        overhead_rows = overhead.run()
    log(f"peak memory of a {memory.STREAM_KIB} KiB stream …")
    stream_memory = memory.run()
    log("failover latency …")
    failover_result = failover.run(pairs=50 if quick else 300)
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
    )
    (args.docs / "benchmarks.md").write_text(report.markdown(), encoding="utf-8")
    log(f"wrote {args.docs / 'benchmarks.md'} in {report.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
