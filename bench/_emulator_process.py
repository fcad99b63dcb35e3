"""Run the kit's emulator on loopback in its own process (so it does not share our GIL).

`python -m bench._emulator_process --tpm N --rpm N --deployments a,b,c` prints the base URL
on one line, serves until its standard input closes, then prints a JSON line of the HTTP
statuses it answered (`{"200": n, "429": m}`) and exits. See `EmulatorProcess`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from types import TracebackType

from azure_ai_kit.emulator import EmulatedDeployment, Emulator

__all__ = ["EmulatorProcess"]


class EmulatorProcess:
    """`with EmulatorProcess(names, tpm=…, rpm=…) as base_url:` a fresh emulator per scenario."""

    def __init__(self, names: list[str], *, tpm: int, rpm: int) -> None:
        self._args = ["--deployments", ",".join(names), "--tpm", str(tpm), "--rpm", str(rpm)]
        self._process: subprocess.Popen[str] | None = None
        #: The statuses the emulator answered, counted once it has stopped.
        self.statuses: dict[int, int] = {}

    def __enter__(self) -> str:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench._emulator_process", *self._args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self._process.kill()
            raise RuntimeError(f"the emulator process did not start (said {line!r})")
        return line

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.close()  # the child's signal to stop
        try:
            assert self._process.stdout is not None
            line = self._process.stdout.readline().strip()
            if line:
                self.statuses = {int(k): v for k, v in json.loads(line).items()}
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployments", required=True)
    parser.add_argument("--tpm", type=int, required=True)
    parser.add_argument("--rpm", type=int, required=True)
    args = parser.parse_args()
    emulator = Emulator(
        [
            EmulatedDeployment(name, kind="chat", model="gpt-4o-mini", tpm=args.tpm, rpm=args.rpm)
            for name in args.deployments.split(",")
        ],
        log_size=1_000_000,  # every request counted in the statuses printed at the end
    )
    with emulator.serve(port=0) as base_url:
        print(base_url, flush=True)
        sys.stdin.read()  # blocks until the parent closes our stdin
    counts: dict[int, int] = {}
    for record in emulator.requests:
        counts[record.status] = counts.get(record.status, 0) + 1
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
