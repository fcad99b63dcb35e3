#!/usr/bin/env python3
"""code_helper: explain, review, fix, question and write tests for code with Azure OpenAI.

The Copilot-style sample of azure-ai-kit, and a starter template: one file, the standard
library, pydantic and the kit. Without AZURE_OPENAI_ENDPOINT it runs on the local emulator,
whose replies are synthetic. It never runs the code it reads, nor the code it gets back.

Read it top to bottom: the prompts, the one class that calls Azure OpenAI (`Assistant`), the
commands, then the plumbing (reading files, code in answers, patches, the command line).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from pydantic import BaseModel, Field

from azure_ai_kit import AzureAIClient, ChatResult, StructuredOutputError
from azure_ai_kit.cli_support import (
    EXIT_CODES,
    EXIT_OK,
    Console,
    NotWritten,
    UsageError,
    refuse_existing,
    require_text,
)

# The prompts: edit these to change the assistant's voice. Source is shown with line numbers.
SYSTEM = (
    "You are a senior software engineer helping a colleague. Be concise, concrete and correct. "
    "Source code is shown with line numbers; cite them as L12 or L12-18. "
    "If you are unsure, say so; never invent APIs."
)
PROMPTS = {
    "explain": "Explain the code: its purpose first, then how it works step by step, then "
    "anything surprising (edge cases, hidden costs, likely bugs). Short paragraphs or bullets.",
    "review": "Review the code like a pull request. List concrete findings, most important "
    "first, each with its file, line, severity and a message: the problem, then the suggested "
    "fix. Cover correctness, error handling, security, performance, readability and missing "
    "tests. Skip praise and anything a formatter would fix. If it looks good, list nothing.",
    "fix": "Find the cause of the error in the file. Reply with a short diagnosis citing the "
    "lines, then the COMPLETE corrected file in ONE fenced code block tagged {language}. "
    "Change only what the fix needs; keep names, style and comments. If the file needs no "
    "change, say why and return it unchanged.",
    "ask": "Answer the question using the files given. Cite files and lines. If the files do "
    "not contain the answer, say so rather than guess.",
    "tests": "Write unit tests with {framework} for the module given: normal cases, edge cases "
    "(empty input, boundaries) and error paths; one behaviour per test; no network, no real "
    "time. Reply with ONE fenced code block tagged {language} holding the complete test file.",
}
SEVERITIES = ("blocker", "major", "minor", "nit")


class Finding(BaseModel):
    """One review finding, as the model returns it (structured outputs: this is the schema)."""

    file: str = Field(description="the file's path as shown in the prompt")
    line: int = Field(description="the line the finding is about (the new line, in a diff)")
    severity: Literal["blocker", "major", "minor", "nit"]
    message: str = Field(description="the problem, then ' -> ' and the suggested fix")


class Review(BaseModel):
    """What `review` asks for: strict structured outputs need an object at the top."""

    findings: list[Finding] = Field(description="most important first; empty if it looks good")


# --- talking to Azure OpenAI --------------------------------------------------------------------
class Assistant:
    """The one place that calls Azure OpenAI: connects lazily, picks the deployment, answers."""

    def __init__(self, client: AzureAIClient | None, model: str | None, console: Console) -> None:
        self._client, self._owned, self._model = client, client is None, model
        self.console = console

    def _connect(self) -> tuple[AzureAIClient, str]:
        if self._client is None:
            self._client = AzureAIClient.from_env(fallback="emulator")
        if self._model is None:
            aliases = {alias for d in self._client.deployments for alias in d.aliases}
            self._model = "code" if "code" in aliases else "chat"
            if self._model == "chat":
                self.console.status(
                    "no 'code' deployment (set AZURE_OPENAI_CODE_DEPLOYMENT); using 'chat'"
                )
        return self._client, self._model

    def stream(self, task: str, prompt: str) -> ChatResult:
        """Stream the answer to stdout as it arrives."""
        client, model = self._connect()
        with client.stream_chat(prompt, model=model, system=f"{SYSTEM}\n\n{task}") as stream:
            for chunk in stream:
                self.console.write(chunk.text)
        self.console.end_line()
        return self._report(stream.result)

    def answer(self, task: str, prompt: str) -> ChatResult:
        """The whole answer at once, for commands that must parse it."""
        client, model = self._connect()
        return self._report(client.chat(prompt, model=model, system=f"{SYSTEM}\n\n{task}"))

    def review(self, task: str, prompt: str) -> list[Finding]:
        """The findings as typed objects: the model fills `Review`'s JSON schema."""
        client, model = self._connect()
        system = f"{SYSTEM}\n\n{task}"
        try:
            result = self._report(
                client.chat(prompt, model=model, system=system, response_format=Review)
            )
        except StructuredOutputError as exc:
            why = "was cut at its token limit" if exc.reason == "length" else "did not validate"
            raise NotWritten(f"the review {why}; review a smaller file or a diff") from exc
        if result.parsed is None:
            raise NotWritten(f"no review: the model declined ({result.refusal})")
        review: Review = result.parsed
        return review.findings

    def _report(self, result: ChatResult) -> ChatResult:
        tokens = f", {result.usage.total_tokens} tokens" if result.usage.total_tokens else ""
        self.console.status(
            f"answered by {result.deployment} ({result.region or 'unknown region'}{tokens})"
        )
        return result

    def close(self) -> None:
        if self._client is not None:
            usage = self._client.usage()
            if usage.total.calls:  # a prompt blocked before any answer is not worth a line
                self.console.status(f"usage: {usage.summary()}")
            if self._owned:
                self._client.close()


# --- the commands: each reads and checks its input before it asks anything ---------------------
Command = Callable[[argparse.Namespace, Assistant, TextIO], int]


def cmd_explain(args: argparse.Namespace, ai: Assistant, stdin: TextIO) -> int:
    path, span = parse_target(args.target)
    src = read_source(path, args.max_bytes)
    count = len(src.lines)
    start, end = span or (1, count)
    if span and not 1 <= start <= end <= count:
        raise UsageError(
            f"line range {start}-{end} is invalid: {path} has {count} lines, "
            f"so use 1 <= START <= END <= {count}"
        )
    where = f"lines {start}-{end} of {src.name}" if span else src.name
    ai.stream(PROMPTS["explain"], f"Explain {where}.\n\n{show(src, start, end)}")
    return EXIT_OK


def cmd_review(args: argparse.Namespace, ai: Assistant, stdin: TextIO) -> int:
    if args.diff == (args.file is not None):
        raise UsageError("review takes either a FILE or --diff (with a `git diff` on stdin)")
    if args.file is not None:
        src = read_source(args.file, args.max_bytes)
        findings = ai.review(PROMPTS["review"], f"Review {src.name}.\n\n{show(src)}")
        for finding in findings:  # one file: its path as the user typed it, for their editor
            finding.file = src.name
    else:
        if stdin.isatty():
            raise UsageError(
                "--diff reads a diff on stdin: git diff | code_helper.py review --diff"
            )
        diff = check_text("the diff on stdin", stdin.read().encode(), args.max_bytes)
        if not diff.strip():
            raise UsageError("the diff on stdin is empty; nothing to review")
        task = PROMPTS["review"] + " Review only the change; cite the file and new line numbers."
        findings = ai.review(task, "Review this change.\n\n" + fenced(diff, "diff"))
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.file, f.line))
    if args.json:
        print(json.dumps([f.model_dump() for f in findings], indent=2, ensure_ascii=False))
    else:  # file:line: severity: message, as compilers print it: editors and CI jump to it
        for f in findings:
            print(f"{f.file}:{f.line}: {f.severity}: {f.message}")
    counts = ", ".join(
        f"{n} {s}" for s in SEVERITIES if (n := sum(f.severity == s for f in findings))
    )
    ai.console.status(f"{len(findings)} finding(s){f' ({counts})' if counts else ''}")
    return EXIT_OK


def cmd_fix(args: argparse.Namespace, ai: Assistant, stdin: TextIO) -> int:
    src = read_source(args.file, args.max_bytes)
    error = require_text("the error", stdin.read() if args.error == "-" else args.error)
    backup = src.path.with_name(src.path.name + ".orig")
    if args.apply and backup.exists() and not args.force:
        raise NotWritten(f"{backup} exists (from an earlier fix?); remove it or pass --force")
    prompt = f"This error was raised:\n\n{fenced(error, 'text')}\n\n{show(src, numbers=False)}"
    result = ai.answer(PROMPTS["fix"].format(language=src.language), prompt)
    prose, code = split_answer(result.text, src.language)
    if code is None or result.finish_reason == "length":
        ai.console.status("no usable fix in the answer (want the whole file in one code block):")
        print(result.text, file=sys.stderr)
        if args.apply:
            raise NotWritten(f"{src.name} not changed")
        return EXIT_OK
    fixed = conform(code, src.text)
    if prose:
        print(prose, file=sys.stderr)
    if fixed == src.text:
        ai.console.status(f"no change proposed for {src.name}")
        return EXIT_OK
    label = src.name.lstrip("/")
    patch = list(difflib.unified_diff(src.lines, split_lines(fixed), f"a/{label}", f"b/{label}"))
    sys.stdout.write(format_patch(patch))
    if not args.apply:
        ai.console.status(
            f"not applied; add --apply to update {src.name} (backup in {backup.name})"
        )
        return EXIT_OK
    current = src.path.read_bytes()
    if hashlib.sha256(current).hexdigest() != src.digest:
        raise NotWritten(f"{src.name} changed since it was read; nothing written, run fix again")
    try:
        if apply_patch(current.decode("utf-8"), patch) != fixed:
            raise ValueError("the result differs from the proposed file")
    except ValueError as exc:
        raise NotWritten(f"the diff does not apply cleanly ({exc}); nothing written") from exc
    mode = stat.S_IMODE(src.path.stat().st_mode)
    write_atomic(backup, current, overwrite=args.force, mode=mode)
    write_atomic(src.path, fixed.encode("utf-8"), overwrite=True, mode=mode)
    ai.console.status(f"updated {src.name}; the original is in {backup}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace, ai: Assistant, stdin: TextIO) -> int:
    files = [read_source(name, args.max_bytes) for name in args.context]
    sections = "\n\n".join(show(src) for src in files)
    ai.stream(PROMPTS["ask"], f"Question: {args.question}\n\n{sections}".strip())
    return EXIT_OK


def cmd_tests(args: argparse.Namespace, ai: Assistant, stdin: TextIO) -> int:
    src = read_source(args.file, args.max_bytes)
    out = Path(args.out) if args.out else None
    if out is not None:
        refuse_existing([out], force=args.force)
    framework = TEST_FRAMEWORKS.get(src.language, f"the usual test framework for {src.language}")
    task = PROMPTS["tests"].format(framework=framework, language=src.language)
    hint = f" Import it as `{src.path.stem}`." if src.language == "python" else ""
    prompt = f"Write unit tests for {src.name}.{hint}\n\n{show(src, numbers=False)}"
    if out is None:
        ai.stream(task, prompt)
        return EXIT_OK
    prose, code = split_answer(ai.answer(task, prompt).text, src.language)
    if code is None:
        print(prose, file=sys.stderr)
        raise NotWritten(f"no code block in the answer (above); {out} not written")
    write_atomic(out, code.encode("utf-8"), overwrite=args.force)
    ai.console.status(f"wrote {out}; read it before you run it")
    return EXIT_OK


# --- reading input ------------------------------------------------------------------------------
LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go",
    ".rs": "rust", ".java": "java", ".kt": "kotlin", ".cs": "csharp", ".c": "c", ".h": "c",
    ".cpp": "cpp", ".cc": "cpp", ".hpp": "cpp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".sh": "bash", ".ps1": "powershell", ".sql": "sql",
}  # fmt: skip
TEST_FRAMEWORKS = {
    "python": "pytest", "javascript": "Jest", "typescript": "Jest with ts-jest",
    "go": "the standard `testing` package (table-driven)", "rust": "a `#[cfg(test)]` module",
    "java": "JUnit 5", "kotlin": "JUnit 5", "csharp": "xUnit", "c": "Unity", "cpp": "GoogleTest",
    "ruby": "RSpec", "php": "PHPUnit", "swift": "XCTest", "bash": "bats",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A text file as read: its text, language and the hash of its bytes (to detect edits)."""

    path: Path
    text: str
    digest: str

    @property
    def name(self) -> str:
        return self.path.as_posix()

    @property
    def language(self) -> str:
        return LANGUAGES.get(self.path.suffix.lower(), "text")

    @property
    def lines(self) -> list[str]:
        return split_lines(self.text)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only, as editors number them."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def check_text(name: str, data: bytes, max_bytes: int) -> str:
    """Decode UTF-8 text, refusing binary and oversized input with a clear message."""
    if len(data) > max_bytes:
        raise UsageError(f"{name} is larger than --max-bytes={max_bytes}; raise it to send it")
    if b"\0" in data[:8192]:
        raise UsageError(f"{name} looks binary (it has NUL bytes); only text files are supported")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_source(name: str, max_bytes: int) -> Source:
    try:
        with open(name, "rb") as f:
            data = f.read(max_bytes + 1)  # one byte more than allowed is enough to refuse
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc
    text = require_text(name, check_text(name, data, max_bytes))
    return Source(Path(name), text, hashlib.sha256(data).hexdigest())


def parse_target(spec: str) -> tuple[str, tuple[int, int] | None]:
    """Split `FILE[:START-END]` (or `FILE:LINE`) into a path and an optional line range."""
    path, colon, tail = spec.rpartition(":")
    if not colon or not path or Path(spec).exists() or not re.fullmatch(r"[\d-]+", tail):
        return spec, None
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", tail)
    if match is None:
        raise UsageError(f"bad line range {tail!r}: use FILE:START-END, e.g. app.py:10-25")
    return path, (int(match[1]), int(match[2] or match[1]))


def fenced(text: str, language: str) -> str:
    """`text` in a Markdown code fence long enough that backticks inside cannot close it."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def show(src: Source, start: int = 1, end: int | None = None, *, numbers: bool = True) -> str:
    """The file (or lines start..end) as a prompt section, numbered so the model can cite."""
    lines = [line.rstrip("\r\n") for line in src.lines[start - 1 : end]]
    if numbers:
        width = len(str(start + len(lines) - 1))
        lines = [f"{n:>{width}}  {line}" for n, line in enumerate(lines, start)]
    return f"File {src.name} ({src.language}):\n" + fenced("\n".join(lines), src.language)


# --- answers that carry code --------------------------------------------------------------------
FENCE = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<tag>[^\n]*)\n(?P<code>.*?)^ {0,3}(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
NOT_CODE = {"diff", "patch", "console", "output", "text", "log"}


def split_answer(answer: str, language: str) -> tuple[str, str | None]:
    """(prose, code): the longest fenced block that is not a diff or output, and the rest."""

    def is_code(block: re.Match[str]) -> bool:
        tag = (block["tag"].split() or [""])[0].lower()
        return tag == language or tag not in NOT_CODE

    blocks = [block for block in FENCE.finditer(answer) if is_code(block)]
    if not blocks:
        return answer.strip(), None
    best = max(blocks, key=lambda b: len(b["code"]))
    return (answer[: best.start()] + answer[best.end() :]).strip(), best["code"]


def conform(code: str, original: str) -> str:
    """Give the model's code the original's line endings and final newline."""
    eol = "\r\n" if "\r\n" in original else "\n"
    code = code.replace("\r\n", "\n").rstrip("\n").replace("\n", eol)
    return code + eol if original.endswith("\n") else code


def format_patch(patch: list[str]) -> str:
    """Printable diff: a line without its newline gets git's "\\ No newline" marker."""
    marker = "\n\\ No newline at end of file\n"
    return "".join(line if line.endswith("\n") else line + marker for line in patch)


def apply_patch(text: str, patch: list[str]) -> str:
    """Apply unified-diff hunks to `text`; ValueError if a context or removed line differs."""
    old, out, pos = split_lines(text), [], 0
    for line in patch[2:]:  # after the ---/+++ headers
        if hunk := re.match(r"@@ -(\d+)(?:,(\d+))? ", line):
            start = int(hunk[1]) if hunk[2] == "0" else int(hunk[1]) - 1
            if start < pos:
                raise ValueError("overlapping hunks")
            out += old[pos:start]
            pos = start
        elif line[:1] in (" ", "-"):
            if pos >= len(old) or old[pos] != line[1:]:
                raise ValueError(f"the diff does not match line {pos + 1}")
            if line[0] == " ":
                out.append(old[pos])
            pos += 1
        elif line[:1] == "+":
            out.append(line[1:])
    return "".join(out + old[pos:])


def write_atomic(path: Path, data: bytes, *, overwrite: bool, mode: int = 0o644) -> None:
    """Write via a temp file in the same folder and os.replace: readers never see half a file."""
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- command line -------------------------------------------------------------------------------
EXAMPLES = (
    """\
examples:
  code_helper.py explain app.py:40-72                            # just lines 40 to 72
  code_helper.py review app.py
  git diff | code_helper.py review --diff                        # your uncommitted change
  code_helper.py fix stats.py --error "$(cat traceback.txt)"     # print a fix as a diff
  code_helper.py fix stats.py --error - --apply < traceback.txt  # write it, keep stats.py.orig
  code_helper.py ask "Where is the cache invalidated?" --context cache.py api.py
  code_helper.py tests stats.py --out test_stats.py
  code_helper.py                                                 # explains its own first lines

Answers go to stdout, status to stderr. Without AZURE_OPENAI_ENDPOINT the local emulator
answers (synthetic replies).

"""
    + EXIT_CODES
)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--max-bytes", type=int, default=200_000, metavar="N", help="refuse inputs over N bytes"
    )
    common.add_argument("--model", help="deployment alias or name (default: code, else chat)")
    parser = argparse.ArgumentParser(
        prog="code_helper.py",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str, run: Command) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=summary, description=summary)
        p.set_defaults(run=run)
        return p

    p = command("explain", "explain a file or a range of its lines", cmd_explain)
    p.add_argument("target", metavar="FILE[:START-END]")
    p = command("review", "review a file, or a `git diff` read from stdin", cmd_review)
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--diff", action="store_true", help="review the diff on stdin instead")
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    p = command("fix", "propose a fix for an error as a diff; --apply writes it", cmd_fix)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--error", required=True, metavar="TEXT", help="traceback; '-' reads stdin")
    p.add_argument("--apply", action="store_true", help="write the fix, keeping FILE.orig")
    p.add_argument("--force", action="store_true", help="overwrite an existing FILE.orig")
    p = command("ask", "answer a question about some files", cmd_ask)
    p.add_argument("question")
    p.add_argument("--context", nargs="+", default=[], metavar="FILE", help="files to read")
    p = command("tests", "draft unit tests for a module", cmd_tests)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", metavar="PATH", help="write the tests to PATH instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    return parser


def main(
    argv: list[str] | None = None,
    *,
    client: AzureAIClient | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; `client=` and `stdin=` let tests inject their own."""
    parser = build_parser()
    console = Console("code_helper")
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # no command: a demo that explains the top of this file
            console.status("no command given; explaining the top of this file (see --help)")
            args = parser.parse_args(["explain", f"{__file__}:1-12"])
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return int(exc.code or 0)
    ai = Assistant(client, args.model, console)
    try:
        run: Command = args.run
        return console.run(lambda: run(args, ai, stdin or sys.stdin))
    finally:
        ai.close()


if __name__ == "__main__":
    sys.exit(main())
