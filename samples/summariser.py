"""Summarise documents with Azure OpenAI: token-aware chunks, a concurrent map, one reduce.

    python summariser.py report.txt --style brief
    python summariser.py docs/ --json     # a title, summary and key points per document, as JSON
    python summariser.py                  # no input: summarises a built-in example

Read it top to bottom: the prompts, then the calls to Azure OpenAI (`run`, `Summariser`), then
the plumbing (output, input, chunking, command line).

Settings come from AZURE_OPENAI_* environment variables or a `.env` file; with no
AZURE_OPENAI_ENDPOINT it runs on the local emulator. Results go to stdout or --out; progress
and errors to stderr. `--help` lists the options, examples and exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pydantic import BaseModel, Field

from azure_ai_kit import (
    AsyncAzureAIClient,
    ChatResult,
    ConfigurationError,
    ContentFilteredError,
    ContextLengthError,
    Settings,
    StructuredOutputError,
    write_atomic,
)
from azure_ai_kit.cli_support import (
    EXIT_CODES,
    EXIT_FILTERED,
    EXIT_NOT_WRITTEN,
    Console,
    NotWritten,
    UsageError,
    refuse_existing,
)

# --- the prompts: edit these to change what the summaries say -----------------------------------
STYLES = {
    "bullets": "Write 3 to 7 Markdown bullet points ('- '), most important first.",
    "tldr": "Write one short paragraph that starts with 'TL;DR:'.",
    "brief": "Write an executive brief in Markdown with the headings '## Summary', "
    "'## Key points' (bullets), '## Risks and open questions' and '## Next steps'.",
}
JSON_STYLE = (
    "Give the document a short title, summarise it in one paragraph, list 3 to 7 key points "
    "(most important first) and the open questions or risks it raises (none if it raises none)."
)
MAP_PROMPT = (
    "You summarise one part of a longer document. Write concise bullet notes of its facts, "
    "figures, names and decisions. Use only the text; never invent. No introduction."
)
MAP_MAX_TOKENS = 400


class Summary(BaseModel):
    """A summary as --json returns it: the model fills this schema (structured outputs)."""

    title: str = Field(description="a short title for the document")
    summary: str = Field(description="the summary, one paragraph")
    key_points: list[str] = Field(description="3 to 7 key facts, most important first")
    open_questions: list[str] = Field(description="open questions and risks; empty if none")


def final_prompt(args: argparse.Namespace, *, structured: bool = False) -> str:
    """The system prompt of the call that writes a summary (as a `Summary` if `structured`)."""
    style = JSON_STYLE if structured else STYLES[args.style]
    language = f"Write in {args.language}." if args.language else "Write in the text's language."
    words = f" Use at most {args.max_words} words." if args.max_words else ""
    rules = "You are a careful summariser. Use only facts in the text; never invent."
    return f"{rules} {style} {language}{words}"


def final_max_tokens(args: argparse.Namespace, *, structured: bool = False) -> int:
    """Room for the summary; a JSON summary also spends tokens on its keys and key points."""
    room = int(args.max_words * 1.5) + 50 if args.max_words else 800
    return room + 200 if structured else room


# --- the calls to Azure OpenAI --------------------------------------------------------------------
async def run(
    args: argparse.Namespace,
    docs: list[Document],
    count: Counter,
    client: AsyncAzureAIClient | None,
    console: Console,
) -> int:
    """Open the client (the environment's Azure settings, else the emulator) and summarise."""
    if client is not None:  # injected (tests): the caller owns and closes it
        return await summarise_all(args, docs, count, client, console)
    async with AsyncAzureAIClient.from_env(fallback="emulator") as own:
        return await summarise_all(args, docs, count, own, console)


async def summarise_all(
    args: argparse.Namespace,
    docs: list[Document],
    count: Counter,
    client: AsyncAzureAIClient,
    console: Console,
) -> int:
    """Summarise every document: concurrently, or one after another when streaming to stdout."""
    summariser = Summariser(client, args, count, console, asyncio.Semaphore(args.concurrency))
    # The kit paces requests to the deployment's quota and logs each wait: show it in progress.
    kit_log = logging.getLogger("azure_ai_kit")
    level = kit_log.level
    kit_log.addHandler(summariser.waits)
    if not kit_log.isEnabledFor(logging.INFO):
        kit_log.setLevel(logging.INFO)
    try:
        return await _summarise_all(args, docs, summariser, client, console)
    finally:
        kit_log.removeHandler(summariser.waits)
        kit_log.setLevel(level)


async def _summarise_all(
    args: argparse.Namespace,
    docs: list[Document],
    summariser: Summariser,
    client: AsyncAzureAIClient,
    console: Console,
) -> int:
    headings = len(docs) > 1  # one "## name" section per document
    stream = args.stream and not args.out
    console.status(f"{len(docs)} document(s), up to {args.concurrency} requests at a time")
    sections: list[Section] = []
    if stream:  # streamed text cannot interleave: one document at a time, printed as it comes
        for doc in docs:
            section = await summariser.document(doc, f"## {doc.name}\n\n" * headings, True)
            sections.append(section)
            console.write("\n\n" if section.streamed else section.markdown(headings) + "\n")
    else:
        sections = list(await asyncio.gather(*(summariser.document(d, "", False) for d in docs)))
        output = (
            as_json(sections) if args.json else "\n".join(s.markdown(headings) for s in sections)
        )
        if args.out:
            write_atomic(args.out, output.encode())
            console.status(f"wrote {args.out}")
        else:
            console.write(output + "\n")
    if all(section.summary is None for section in sections):
        if any(section.refusal for section in sections):
            console.status("error: no summary: the model declined (see the notes)")
            return EXIT_NOT_WRITTEN
        console.status("error: the content filter blocked every part of the input")
        return EXIT_FILTERED
    uncounted = " (streamed replies uncounted)" if summariser.unmetered_streams else ""
    console.status(f"done: {client.usage().summary()}{uncounted}")
    return 0


@dataclass
class Section:
    """One document's part of the output."""

    name: str
    summary: str | None = None  # None when the content filter blocked every chunk
    notes: list[str] = field(default_factory=list)
    streamed: bool = False  # the summary is already on stdout
    parsed: Summary | None = None  # with --json: the summary as a typed object
    refusal: str | None = None  # with --json: why the model declined

    def markdown(self, heading: bool) -> str:
        parts = [f"## {self.name}"] if heading else []
        parts += [self.summary.strip()] if self.summary else []
        return "\n\n".join(parts + self.notes) + "\n"


class QuotaWaits(logging.Handler):
    """Keeps the latest "waiting … for quota" the kit logs, so the progress line can show it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.latest: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " for quota on " in message:  # "chat: waiting 12 s for quota on gpt-4o-mini@…"
            self.latest = message.split(": ", 1)[-1].split(" on ", 1)[0]

    def take(self) -> str | None:
        """The wait seen since the last call, if any."""
        latest, self.latest = self.latest, None
        return latest


@dataclass
class Summariser:
    """Map and reduce one document's chunks through the client, sharing one request limit."""

    client: AsyncAzureAIClient
    args: argparse.Namespace
    count: Counter
    console: Console
    limit: asyncio.Semaphore  # bounds the requests in flight, across all documents
    unmetered_streams: int = 0
    waits: QuotaWaits = field(default_factory=QuotaWaits)

    async def ask(
        self,
        system: str,
        text: str,
        max_tokens: int,
        echo: str | None = None,
        structured: bool = False,
    ) -> ChatResult:
        """One chat call. With `echo`, stream the reply to stdout (after `echo`) as it arrives;
        with `structured`, the reply is a `Summary` on `result.parsed` (or a `result.refusal`)."""
        options = {"system": system, "model": self.args.deployment, "max_tokens": max_tokens}
        if structured:
            options["response_format"] = Summary
        try:
            async with self.limit:
                if echo is None:
                    result = await self.client.chat(text, **options)
                else:
                    async with self.client.stream_chat(text, **options) as stream:
                        self.console.write(echo)
                        async for chunk in stream:
                            self.console.write(chunk.text)
                    result = stream.result
        except StructuredOutputError as exc:  # --json: a reply cut short, or not a Summary
            why = "was cut at its token limit" if exc.reason == "length" else "did not validate"
            hint = " (raise --max-words)" if exc.reason == "length" else ""
            raise NotWritten(f"the model's JSON summary {why}{hint}; nothing written") from exc
        self.record(result)
        return result

    def record(self, result: ChatResult) -> None:
        self.unmetered_streams += result.usage.total_tokens == 0  # streams on older API versions
        if result.finish_reason == "length":
            self.console.status("warning: a reply reached its token limit and was cut short")

    async def summarise_part(self, text: str, depth: int = 0) -> str:
        """Map one chunk. A chunk too long for the model is halved and retried (bounded)."""
        try:
            return (await self.ask(MAP_PROMPT, text, MAP_MAX_TOKENS)).text
        except ContextLengthError:
            if depth >= MAX_SPLITS:
                raise
            halves = halve(text)
            return "\n".join(
                await asyncio.gather(*(self.summarise_part(h, depth + 1) for h in halves))
            )

    async def combine(self, name: str, partials: list[str], depth: int = 0) -> ChatResult:
        """The reduce step: one call. Partials too long for the model are combined by halves
        (in text; only the last call answers as a `Summary` with --json)."""
        intro = f"Partial summaries of consecutive parts of {name}, in order:\n\n"
        args, structured = self.args, self.args.json and depth == 0
        try:
            text = intro + "\n\n".join(partials)
            system = final_prompt(args, structured=structured)
            max_tokens = final_max_tokens(args, structured=structured)
            return await self.ask(system, text, max_tokens, structured=structured)
        except ContextLengthError:
            if depth >= MAX_SPLITS or len(partials) < 2:
                raise
            middle = len(partials) // 2
            halves = [partials[:middle], partials[middle:]]
            combined = await asyncio.gather(*(self.combine(name, h, depth + 1) for h in halves))
            return await self.combine(name, [c.text for c in combined], depth + 1)

    async def document(self, doc: Document, heading: str, stream: bool) -> Section:
        chunks = chunk_text(doc.text, self.args.chunk_tokens, self.args.overlap, self.count)
        if len(chunks) == 1:  # short: one call, optionally streamed
            structured = self.args.json
            prompt = final_prompt(self.args, structured=structured)
            max_tokens = final_max_tokens(self.args, structured=structured)
            try:
                echo = heading if stream else None
                result = await self.ask(prompt, chunks[0], max_tokens, echo, structured)
                return self.section(doc.name, result, streamed=stream)
            except ContentFilteredError as exc:
                return Section(doc.name, notes=[self.blocked(doc.name, 1, 1, exc)])
            except ContextLengthError:
                chunks = halve(chunks[0])  # too long for this model after all: map and reduce
        self.console.status(f"{doc.name}: {len(chunks)} chunks")
        finished = 0

        async def map_one(chunk: str) -> str | ContentFilteredError:
            nonlocal finished
            try:
                return await self.summarise_part(chunk)
            except ContentFilteredError as exc:
                return exc  # reported below; the other chunks go on
            finally:
                finished += 1
                wait = self.waits.take()  # "waiting 0.3 s for quota", if the kit paced a call
                label = f"{doc.name} chunks" + (f" ({wait})" if wait else "")
                self.console.progress(label, finished, len(chunks))

        results = await asyncio.gather(*(map_one(chunk) for chunk in chunks))
        notes, partials = [], []
        for n, partial in enumerate(results, 1):
            if isinstance(partial, ContentFilteredError):
                notes.append(self.blocked(doc.name, n, len(chunks), partial))
            else:
                partials.append(f"Part {n}:\n{partial}")
        if not partials:
            return Section(doc.name, notes=notes)
        section = self.section(doc.name, await self.combine(doc.name, partials))
        section.notes[:0] = notes
        return section

    def section(self, name: str, result: ChatResult, streamed: bool = False) -> Section:
        """A document's section from the call that summarised it."""
        if not self.args.json:
            return Section(name, result.text, streamed=streamed)
        if result.parsed is None:  # a structured call answers a Summary or a refusal
            self.console.status(f"{name}: the model declined to summarise: {result.refusal}")
            return Section(name, notes=[f"> [declined: {result.refusal}]"], refusal=result.refusal)
        summary: Summary = result.parsed
        return Section(name, summary.summary, parsed=summary)

    def blocked(self, name: str, n: int, total: int, exc: ContentFilteredError) -> str:
        why = ", ".join(exc.filtered_categories) or "unspecified"
        what = "was blocked" if exc.source == "prompt" else "had its summary cut"
        self.console.status(f"{name}: chunk {n} of {total} {what} by the content filter ({why})")
        return f"> [chunk {n} of {total} {what} by the content filter: {why}]"


# --- constants of the plumbing below --------------------------------------------------------------
SUPPORTED = (".txt", ".md", ".html", ".htm")
MAX_SPLITS = 3  # a chunk too long for the model is halved at most this many times
Counter = Callable[[str], int]
EXAMPLE = (  # summarised when no input is given on a terminal
    "Contoso and Fabrikam signed a two-year partnership on 3 March. Contoso will resell "
    "Fabrikam's inventory software to its 1,200 retail customers, starting in Europe in "
    "the third quarter and in North America next year. Fabrikam trains Contoso's sales team "
    "and answers second-line support calls. Revenue is split 70/30 in Fabrikam's favour. "
    "Either side may leave with six months' notice after the first year. Open questions: "
    "pricing for customers with fewer than ten stores, and who owns customer data."
)
HTML_START = re.compile(r"\s*(<!doctype html|<html|<head|<body|<(p|div|article|h1)\b)", re.I)


# --- output ------------------------------------------------------------------------------------
def as_json(sections: list[Section]) -> str:
    """--json: a list with one object per document, a `Summary`'s fields (null when there is
    no summary) plus its name and notes (chunks the filter blocked, a refusal)."""
    empty = dict.fromkeys(Summary.model_fields)
    items = [
        {"document": s.name, **(s.parsed.model_dump() if s.parsed else empty), "notes": s.notes}
        for s in sections
    ]
    return json.dumps(items, indent=2, ensure_ascii=False)


def write_batch(
    args: argparse.Namespace, docs: list[Document], count: Counter, console: Console
) -> int:
    """Write one Azure Batch request per chunk (a short document's is its final prompt)."""
    deployment = args.deployment or Settings.load().chat_deployment
    if not deployment:
        raise ConfigurationError(
            "--batch needs a deployment name: set AZURE_OPENAI_CHAT_DEPLOYMENT or pass --deployment"
        )
    lines = []
    for doc in docs:
        chunks = chunk_text(doc.text, args.chunk_tokens, args.overlap, count)
        single = len(chunks) == 1
        system = final_prompt(args) if single else MAP_PROMPT
        max_tokens = final_max_tokens(args) if single else MAP_MAX_TOKENS
        for n, chunk in enumerate(chunks, 1):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": chunk}]
            body = {"model": deployment, "messages": messages, "max_tokens": max_tokens}
            line = {"custom_id": f"{doc.name}#{n}", "method": "POST", "url": "/chat/completions"}
            lines.append(json.dumps({**line, "body": body}, ensure_ascii=False) + "\n")
    write_atomic(args.batch, "".join(lines).encode())
    console.status(f"wrote {len(lines)} requests for {len(docs)} document(s) to {args.batch}")
    print(
        "To run it on a Global-Batch deployment: upload it to {endpoint}/openai/files with\n"
        "purpose=batch, then POST {endpoint}/openai/batches with the file id,\n"
        '"endpoint": "/chat/completions" and "completion_window": "24h". Poll at most once a\n'
        "minute; match output lines by custom_id. Documents split into several chunks\n"
        "(name#1, name#2, …) need one more call that combines their partial summaries.",
        file=sys.stderr,
    )
    return 0


# --- input -------------------------------------------------------------------------------------
@dataclass
class Document:
    """One input, as text: a file's name (or "stdin") and its readable text."""

    name: str
    text: str


class _HTMLText(HTMLParser):
    """Collects the visible text of a page: no script/style, block elements become paragraphs."""

    SKIP = frozenset({"script", "style", "noscript", "template", "nav", "title"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0  # depth inside script/style/…

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML page, one paragraph per block, whitespace collapsed."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def read_file(path: Path) -> Document:
    if path.suffix.lower() not in SUPPORTED:
        raise UsageError(f"{path}: unsupported file type (supported: {', '.join(SUPPORTED)})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        if b"\0" in data[:8192]:
            raise UnicodeError
        text = data.decode("utf-8-sig")
    except UnicodeError:
        raise UsageError(f"{path}: looks binary or is not UTF-8 text") from None
    return Document(path.name, html_to_text(text) if path.suffix.lower() in SUPPORTED[2:] else text)


def read_stdin() -> Document:
    """stdin as a document; a page piped in (`curl … | summariser.py -`) is read as HTML."""
    text = sys.stdin.read()
    return Document("stdin", html_to_text(text) if HTML_START.match(text) else text)


def read_inputs(names: list[str]) -> list[Document]:
    """Files, folders (their supported files, sorted) or '-' for stdin; empty text is an error."""
    docs: list[Document] = []
    for name in names:
        path = Path(name)
        if name == "-":
            docs.append(read_stdin())
        elif path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED)
            if not files:
                raise UsageError(f"{path}: no {', '.join(SUPPORTED)} files in this folder")
            docs.extend(read_file(p) for p in files if p.is_file())
        else:
            docs.append(read_file(path))
    for doc in docs:
        if not doc.text.strip():
            raise UsageError(f"{doc.name}: nothing to summarise (no text)")
    return docs


# --- chunking ----------------------------------------------------------------------------------
def token_counter() -> tuple[Counter, str]:
    """tiktoken's count when it is installed and its encoding loads, else ≈ 4 characters/token."""
    try:
        encoding = importlib.import_module("tiktoken").get_encoding("o200k_base")
        encoding.encode("warm up")  # the encoding downloads on first use: fails offline
    except Exception:
        return (lambda text: math.ceil(len(text) / 4)), "estimated at 4 characters per token"
    return (lambda text: len(encoding.encode(text))), "counted with tiktoken"


SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_words(sentence: str, limit: int, count: Counter) -> list[str]:
    """Cut a run-on "sentence" longer than a chunk between words."""
    runs, run = [], ""
    for word in sentence.split():
        if run and count(f"{run} {word}") > limit:
            runs.append(run)
            run = ""
        run = f"{run} {word}".lstrip()
    return [*runs, run]


def split_units(text: str, limit: int, count: Counter) -> list[str]:
    """Paragraphs; the sentences of a paragraph over `limit`; word runs of a sentence over it.
    Each unit keeps the separator that follows it, so a chunk is just `"".join(units)`."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        pieces = [paragraph] if count(paragraph) <= limit else SENTENCE_END.split(paragraph)
        pieces = [
            w for p in pieces for w in (split_words(p, limit, count) if count(p) > limit else [p])
        ]
        units += [p.strip() + " " for p in pieces[:-1]] + [pieces[-1].strip() + "\n\n"]
    return units


def chunk_text(text: str, limit: int, overlap: int, count: Counter) -> list[str]:
    """Pack units into chunks of at most `limit` tokens. Each chunk starts with the last whole
    sentences (up to `overlap` tokens) of the one before, so text at a boundary keeps context."""
    chunks: list[str] = []
    current: list[str] = []
    for unit in split_units(text, limit, count):
        if current and count("".join([*current, unit])) > limit:
            chunks.append("".join(current))
            carry = last_sentences(chunks[-1], min(overlap, limit - count(unit)), count)
            current = [carry] if carry else []
        current.append(unit)
    return [chunk.strip() for chunk in [*chunks, "".join(current)] if chunk.strip()]


def last_sentences(text: str, budget: int, count: Counter) -> str:
    """The trailing whole sentences of `text` that fit in `budget` tokens, with its separator."""
    kept = ""
    for sentence in reversed(SENTENCE_END.split(text.strip())):
        if count(f"{sentence} {kept}") > budget:
            break
        kept = f"{sentence} {kept}"
    return kept.rstrip() + text[len(text.rstrip()) :] if kept else ""


def halve(text: str) -> list[str]:
    """Two halves, cut at the paragraph, sentence or word boundary nearest the middle."""
    low, high = len(text) // 4, 3 * len(text) // 4
    for boundary in (r"\n\s*\n", SENTENCE_END.pattern, r"\s+"):
        cuts = [m.end() for m in re.finditer(boundary, text) if low <= m.start() <= high]
        if cuts:
            cut = min(cuts, key=lambda c: abs(c - len(text) // 2))
            return [text[:cut].strip(), text[cut:].strip()]
    return [text[: len(text) // 2], text[len(text) // 2 :]]


# --- command line ------------------------------------------------------------------------------
def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="summariser",
        description="Summarise text, Markdown and HTML documents with Azure OpenAI.\n"
        "Long documents are split into overlapping chunks, summarised concurrently,\n"
        "then combined. Settings come from AZURE_OPENAI_* variables or .env; without\n"
        "AZURE_OPENAI_ENDPOINT it runs on a local emulator (synthetic replies).",
        epilog="examples:\n"
        "  summariser.py                 # a built-in example\n"
        "  summariser.py report.txt --style brief\n"
        "  summariser.py docs/ --style bullets --max-words 150 --out summary.md\n"
        "  summariser.py docs/ --json | jq -r '.[].title'\n"
        "  curl -s https://example.com/post.html | summariser.py - --style tldr --stream\n"
        "  summariser.py docs/ --batch requests.jsonl --deployment gpt-4o-mini-batch\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "inputs", nargs="*", metavar="INPUT", help="files (.txt .md .html), folders, or - for stdin"
    )
    add("--style", choices=list(STYLES), default="bullets", help="bullets (default), tldr, brief")
    add("--max-words", type=positive, metavar="N", help="upper bound on the summary's length")
    add("--language", metavar="LANG", help="language of the summary (default: the text's)")
    add("--out", type=Path, metavar="FILE", help="write the summary to FILE instead of stdout")
    add("--force", action="store_true", help="overwrite the --out or --batch file if it exists")
    add("--stream", action="store_true", help="stream short documents to stdout, one at a time")
    add("--json", action="store_true", help="title, summary, key points per document, as JSON")
    add("--concurrency", type=positive, metavar="N", default=4, help="requests in flight (4)")
    add("--chunk-tokens", type=positive, metavar="N", default=1000, help="chunk size (1000)")
    add("--overlap", type=int, metavar="N", default=100, help="tokens shared by chunks (100)")
    add("--deployment", metavar="NAME", help="deployment name or alias (default: the 'chat' alias)")
    add("--batch", type=Path, metavar="OUT.jsonl", help="write Azure Batch requests; call nothing")
    return parser


def main(argv: list[str] | None = None, *, client: AsyncAzureAIClient | None = None) -> int:
    """Run the command line; `client=` lets tests inject their own (the caller closes it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not 0 <= args.overlap < args.chunk_tokens // 2:
            parser.error("--overlap must be at least 0 and under half of --chunk-tokens")
        if args.json and (args.stream or args.batch):
            parser.error("--json writes whole summaries: use it without --stream and --batch")
    except SystemExit as exc:  # --help, or a usage error that argparse has explained
        return exc.code if isinstance(exc.code, int) else 2
    console = Console("summariser")
    return console.run(lambda: summarise(args, console, client))


def summarise(args: argparse.Namespace, console: Console, client: AsyncAzureAIClient | None) -> int:
    """Check the output and read the inputs (before any request), then summarise or batch."""
    target: Path | None = args.batch or args.out
    if target is not None:
        refuse_existing([target], force=args.force)
        if target.parent.exists() and not target.parent.is_dir():
            raise UsageError(f"cannot write {target}: {target.parent} is not a folder")
    if not args.inputs and sys.stdin.isatty():
        console.status("no input given; summarising a built-in example (see --help)")
        docs = [Document("example", EXAMPLE)]
    else:
        docs = read_inputs(args.inputs or ["-"])
    count, how = token_counter()
    console.status(f"tokens {how}")
    if args.batch:
        return write_batch(args, docs, count, console)
    return asyncio.run(run(args, docs, count, client, console))


if __name__ == "__main__":
    sys.exit(main())
