"""Generate the synchronous twins from the asyncio sources, as httpcore does.

    python scripts/unasync.py          # rewrite the generated files
    python scripts/unasync.py --check  # exit 1 if a generated file is out of date (make lint)

Each rule is a regular expression applied line by line, in order; the sources are written so
that these few substitutions give correct synchronous code and docstrings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "azure_ai_kit"

#: source → generated, inside the package.
FILES = {
    "_async_client.py": "_client.py",
    "_async_stream.py": "_stream.py",
}

RULES: list[tuple[str, str]] = [
    (r"^import asyncio\n", ""),
    (r"^    _asynchronous = True\n", ""),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"Awaitable\[(None|tuple\[[^\[\]]*\])\]", r"\1"),
    (r"Awaitable\[(tuple\[T, Mapping\[str, str\]\])\]", r"\1"),
    (r"\bAwaitable, ", ""),
    (r"\basync def\b", "def"),
    (r"\basync (with|for)\b", r"\1"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\baclose\b", "close"),
    (r"\banext\(", "next("),
    (r"\baiter\(", "iter("),
    (r"\baiter_bytes\b", "iter_bytes"),
    (r"\bwith_downloads_async\b", "with_downloads"),
    (r"_async_stream\b", "_stream"),
    (r"_async_client\b", "_client"),
    (r"\bAsync(?=[A-Z])", ""),
    (r"\btyped asyncio\b", "typed"),
    (r"\basyncio client\b", "synchronous client"),
    (r"\bawaits\b", "calls"),
]

_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in RULES]


def generate(source: str, name: str) -> str:
    """The synchronous text for an asyncio source file."""
    out = []
    for line in source.splitlines(keepends=True):
        for pattern, replacement in _COMPILED:
            line = pattern.sub(replacement, line)
        out.append(line)
    header = f"# Generated from {name} by scripts/unasync.py: do not edit.\n"
    # Names and line lengths change, so imports are re-sorted and the text re-formatted.
    text = header + "".join(out)
    for command in (["check", "--fix", "--quiet", "--select", "I"], ["format"]):
        text = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", name, "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return text


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every generated file; 1 when one is stale."""
    check = "--check" in argv
    stale = []
    for source, target in FILES.items():
        text = generate((PACKAGE / source).read_text(encoding="utf-8"), source)
        path = PACKAGE / target
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(target)
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run `python scripts/unasync.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
