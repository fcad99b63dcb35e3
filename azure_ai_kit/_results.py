"""Typed results: what a call returns, with Azure's extras (region, request id, filter report).

Conversion from `openai` objects and raw JSON lives here too, so the client twins stay thin.
Azure spells the filter fields two ways on the wire (WIRE.md); both are read.
"""

from __future__ import annotations

import base64
import functools
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "Attempt",
    "CategoryResult",
    "ChatChunk",
    "ChatResult",
    "ContentFilterReport",
    "EmbeddingResult",
    "GeneratedImage",
    "ImageResult",
    "Usage",
    "write_atomic",
]


@dataclass(frozen=True)
class Usage:
    """Token counts Azure reported for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_openai(cls, usage: Any) -> Usage:
        """Build from an `openai` usage object (or `None`, giving zeros)."""
        if usage is None:
            return cls()
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        total = int(getattr(usage, "total_tokens", 0) or 0) or prompt + completion
        return cls(prompt, completion, total)


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a call: where it went, how it ended, how long the call waited first."""

    deployment: str
    status: int | None
    error: str | None
    waited: float = 0.0


@dataclass(frozen=True)
class CategoryResult:
    """One content-filter category: severity categories carry `severity`, detections `detected`."""

    filtered: bool
    severity: str | None = None
    detected: bool | None = None
    citation: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CategoryResult:
        """Parse `{"filtered": …, "severity": …}` or `{"filtered": …, "detected": …}`."""
        detected = data.get("detected")
        citation = data.get("citation")
        return cls(
            filtered=bool(data.get("filtered", False)),
            severity=data.get("severity"),
            detected=None if detected is None else bool(detected),
            citation=citation if isinstance(citation, Mapping) else None,
        )


class _LazyCategories(Mapping[str, CategoryResult]):
    """Categories parsed on first access: most callers never look, and every call has them."""

    __slots__ = ("_parsed", "_raw")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self._parsed: dict[str, CategoryResult] | None = None

    def _all(self) -> dict[str, CategoryResult]:
        if self._parsed is None:
            self._parsed = {
                name: CategoryResult.from_json(value)
                for name, value in self._raw.items()
                if name != "error" and isinstance(value, Mapping)
            }
        return self._parsed

    def __getitem__(self, name: str) -> CategoryResult:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True)
class ContentFilterReport:
    """Azure's content-filter annotations for a prompt or a completion.

    `error` is set when Azure could not run the filter ("The contents are not filtered").
    """

    categories: Mapping[str, CategoryResult] = field(default_factory=dict)
    error: str | None = None

    @property
    def filtered(self) -> bool:
        """True when any category blocked the content."""
        return any(c.filtered for c in self.categories.values())

    @property
    def filtered_categories(self) -> list[str]:
        """Names of the categories that fired, sorted."""
        return sorted(name for name, c in self.categories.items() if c.filtered)

    @classmethod
    def from_json(cls, data: Any) -> ContentFilterReport | None:
        """Parse a `content_filter_results` object; `None` when absent or not an object."""
        if not isinstance(data, Mapping):
            return None
        error = data.get("error")
        message = None
        if isinstance(error, Mapping):
            message = str(error.get("message") or error.get("code") or "content filter error")
        return cls(categories=_LazyCategories(data), error=message)


def prompt_filter_from(extra: Mapping[str, Any] | None) -> ContentFilterReport | None:
    """The prompt's report from `prompt_filter_results` (a list for chat, an object for images)."""
    if not extra:
        return None
    results = extra.get("prompt_filter_results")
    if isinstance(results, list):
        results = results[0] if results else None
    if isinstance(results, Mapping) and "content_filter_results" in results:
        results = results["content_filter_results"]
    return ContentFilterReport.from_json(results)


def completion_filter_from(extra: Mapping[str, Any] | None) -> ContentFilterReport | None:
    """Read a choice's or an image's `content_filter_results`."""
    if not extra:
        return None
    return ContentFilterReport.from_json(extra.get("content_filter_results"))


@dataclass(frozen=True)
class _Served:
    """Where a result came from; shared by every result type."""

    deployment: str = ""
    endpoint: str = ""
    region: str | None = None
    request_id: str | None = None
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class ChatResult(_Served):
    """A chat completion: the text and everything Azure said about it.

    `raw` is the `openai` `ChatCompletion` (or `None` for a streamed result), for fields
    the kit does not surface, such as `raw.choices[0].message.tool_calls`.
    """

    text: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    prompt_filter: ContentFilterReport | None = None
    completion_filter: ContentFilterReport | None = None
    raw: Any = field(default=None, repr=False)

    @property
    def tool_calls(self) -> list[Any]:
        """The tool calls of the first choice (empty when the model answered in text)."""
        if self.raw is None or not self.raw.choices:
            return []
        return list(self.raw.choices[0].message.tool_calls or [])


@dataclass(frozen=True)
class ChatChunk:
    """One piece of a streamed answer. `text` is empty for Azure's annotation-only chunks."""

    text: str = ""
    finish_reason: str | None = None
    raw: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class GeneratedImage:
    """One generated image with its decoded bytes; `save()` writes it atomically."""

    data: bytes = field(repr=False)
    revised_prompt: str | None = None
    url: str | None = None
    content_filter: ContentFilterReport | None = None
    prompt_filter: ContentFilterReport | None = None

    @property
    def format(self) -> str:
        """`"png"`, `"jpeg"`, `"webp"` or `"bin"`, sniffed from the bytes."""
        if self.data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if self.data.startswith(b"\xff\xd8"):
            return "jpeg"
        if self.data[:4] == b"RIFF" and self.data[8:12] == b"WEBP":
            return "webp"
        return "bin"

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
        """Write the image to `path` atomically (temp file + rename) and return the path."""
        return write_atomic(Path(path), self.data, overwrite=overwrite)


@dataclass(frozen=True)
class ImageResult(_Served):
    """Images from one generation call."""

    images: tuple[GeneratedImage, ...] = ()
    created: int | None = None
    raw: Any = field(default=None, repr=False)

    @property
    def needs_download(self) -> bool:
        """True when some image came back as a URL only (`response_format="url"`)."""
        return any(image.url and not image.data for image in self.images)

    def with_downloads(self, fetch: Callable[[str], bytes]) -> ImageResult:
        """A copy whose URL-only images have their bytes fetched with `fetch(url)`."""
        images = tuple(
            replace(image, data=fetch(image.url)) if image.url and not image.data else image
            for image in self.images
        )
        return replace(self, images=images)

    async def with_downloads_async(self, fetch: Callable[[str], Awaitable[bytes]]) -> ImageResult:
        """The async form of `with_downloads`."""
        images = []
        for image in self.images:
            if image.url and not image.data:
                image = replace(image, data=await fetch(image.url))
            images.append(image)
        return replace(self, images=tuple(images))


@dataclass(frozen=True)
class EmbeddingResult(_Served):
    """Embedding vectors, in input order."""

    vectors: tuple[list[float], ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    raw: Any = field(default=None, repr=False)


def write_atomic(path: Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write bytes to `path` via a temp file in the same folder, so no reader sees half a file."""
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it owner-only; use what open() would give
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target appeared meanwhile, so we never clobber a file.
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@functools.cache
def _umask() -> int:
    # os.umask can only be read by setting it; do it once, not on every write from any thread.
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def decode_images(data: Sequence[Any]) -> tuple[GeneratedImage, ...]:
    """Turn `openai` image objects into `GeneratedImage`s (b64 decoded; url kept)."""
    images = []
    for item in data:
        extra = getattr(item, "model_extra", None) or {}
        b64 = getattr(item, "b64_json", None)
        images.append(
            GeneratedImage(
                data=base64.b64decode(b64) if b64 else b"",
                revised_prompt=getattr(item, "revised_prompt", None),
                url=getattr(item, "url", None),
                content_filter=completion_filter_from(extra),
                prompt_filter=prompt_filter_from(extra),
            )
        )
    return tuple(images)
