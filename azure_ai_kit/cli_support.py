"""What command-line programs built on the kit share: one exit-code table, one error reporter.

The samples and the starters written by `azure-ai-kit new` use it, so a program's `main()` is
its own logic plus one line:

```python
from azure_ai_kit.cli_support import Console

console = Console("myapp")
sys.exit(console.run(lambda: work(console)))
```

| exit code | meaning |
|---|---|
| 0 | ok |
| 1 | nothing written: the output exists (pass --force), or it could not be saved |
| 2 | usage or input error: nothing was sent |
| 3 | blocked by Azure's content filter |
| 4 | throttled or unavailable |
| 5 | authentication or configuration |
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ._exceptions import (
    AuthenticationError,
    AzureAIKitError,
    ConfigurationError,
    ContentFilteredError,
    ContextLengthError,
    DeploymentNotFoundError,
    RateLimitedError,
    ServiceError,
)

__all__ = [
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_FILTERED",
    "EXIT_NOT_WRITTEN",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "Console",
    "NotWritten",
    "UsageError",
    "exit_code",
    "refuse_existing",
    "require_text",
    "seconds_text",
]

EXIT_OK = 0
EXIT_NOT_WRITTEN = 1
EXIT_USAGE = 2
EXIT_FILTERED = 3
EXIT_UNAVAILABLE = 4
EXIT_CONFIG = 5

#: For a program's --help epilog.
EXIT_CODES = (
    "exit codes: 0 ok, 1 nothing written (output exists or could not be saved),\n"
    "            2 usage or input (nothing sent), 3 content filtered,\n"
    "            4 throttled or unavailable, 5 authentication or configuration"
)


class UsageError(Exception):
    """Bad arguments or input, found before any request: exit 2."""


class NotWritten(Exception):
    """An output was not written (it exists without --force, or it changed meanwhile): exit 1."""


def seconds_text(seconds: float | None) -> str:
    """ "in 2s" for a wait, rounded up so Azure's "1 second" never reads as "0s"; else "later"."""
    if seconds is None or seconds <= 0:
        return "later"
    return f"in {max(1, math.ceil(seconds))}s"


def exit_code(exc: BaseException) -> tuple[int, str]:
    """The exit code for an exception and the one-line message that explains it."""
    text = " ".join(str(exc).split())
    if isinstance(exc, UsageError):
        return EXIT_USAGE, text
    if isinstance(exc, ContextLengthError):
        return EXIT_USAGE, f"too long for the model; send less ({text})"
    if isinstance(exc, ContentFilteredError):
        fired = ", ".join(exc.filtered_categories) or "unspecified"
        return EXIT_FILTERED, f"Azure's content filter blocked the {exc.source} ({fired})"
    if isinstance(exc, RateLimitedError):
        return EXIT_UNAVAILABLE, f"throttled; try again {seconds_text(exc.retry_after)} ({text})"
    if isinstance(exc, ServiceError):
        if 400 <= (exc.status_code or 0) < 500:  # a request Azure rejects: retrying won't help
            return EXIT_NOT_WRITTEN, f"Azure rejected the request: {text}"
        return EXIT_UNAVAILABLE, f"Azure OpenAI is unavailable; try again later ({text})"
    if isinstance(exc, AuthenticationError | ConfigurationError | DeploymentNotFoundError):
        return EXIT_CONFIG, f"check your Azure OpenAI settings: {text}"
    if isinstance(exc, NotWritten | AzureAIKitError | OSError):
        return EXIT_NOT_WRITTEN, text
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted"
    raise exc


def refuse_existing(paths: Iterable[Path], *, force: bool) -> None:
    """Raise :class:`NotWritten` for the first path that exists, unless *force*."""
    for path in paths:
        if path.exists() and not force:
            raise NotWritten(f"{path} exists; nothing written. Pass --force to overwrite it")


def require_text(name: str, text: str) -> str:
    """*text*, or :class:`UsageError` when it is empty: an empty input is never a paid call."""
    if not text.strip():
        raise UsageError(f"{name} is empty; nothing to send")
    return text


class Console:
    """A program's stdout and stderr: streamed text, status lines, progress and the exit code.

    It remembers whether streamed text left a line open, so a status or error message (a
    content filter cutting a stream, say) always starts on a new line.
    """

    def __init__(
        self,
        prog: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        progress_every: float = 5.0,
    ) -> None:
        self.prog = prog
        self._clock = clock
        self._every = progress_every
        self._open_line = False
        self._last_progress: float | None = None

    @property
    def out(self) -> TextIO:
        return sys.stdout

    @property
    def err(self) -> TextIO:
        return sys.stderr

    def write(self, text: str) -> None:
        """Write streamed text to stdout now."""
        if text:
            self.out.write(text)
            self.out.flush()
            self._open_line = not text.endswith("\n")

    def end_line(self) -> None:
        """Close a line that streamed text left open."""
        if self._open_line:
            self.write("\n")

    def status(self, message: str) -> None:
        """One line on stderr, prefixed with the program's name."""
        self.end_line()
        print(f"{self.prog}: {message}", file=self.err, flush=True)

    def progress(self, what: str, done: int, total: int) -> None:
        """A redrawn bar on a terminal; elsewhere (CI, a log file) a line every few seconds."""
        if self.err.isatty():
            bar = "#" * (24 * done // total)
            end = "\n" if done == total else ""
            print(f"\r{what} [{bar:.<24}] {done}/{total}", end=end, file=self.err, flush=True)
            return
        now = self._clock()
        due = self._last_progress is None or now - self._last_progress >= self._every
        if due or done == total:
            self._last_progress = now
            self.status(f"{what}: {done}/{total} done")

    def run(self, body: Callable[[], int]) -> int:
        """Call *body*; turn the kit's errors into a message on stderr and the table's code."""
        try:
            return body()
        except (Exception, KeyboardInterrupt) as exc:
            code, message = exit_code(exc)
            self.status(f"error: {message}")
            return code
