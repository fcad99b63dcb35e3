"""Typed results: what a call returns, with Azure's extras (region, request id, filter report).

Conversion from `openai` objects and raw JSON lives here too (`chat_result`, `image_result`,
`embedding_result`), so the client twins stay thin. Azure spells the filter fields two ways
on the wire (docs/wire.md, "Content-filter annotations on success"); both are read.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Attempt",
    "CategoryResult",
    "ChatChunk",
    "ChatResult",
    "Choice",
    "ContentFilterReport",
    "EmbeddingResult",
    "GeneratedImage",
    "ImageResult",
    "Served",
    "Usage",
    "write_atomic",
]

T = TypeVar("T")


def built(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of the frozen dataclass `cls` from the values of all its fields.

    Results are built on every call, and a frozen dataclass's `__init__` pays one
    `object.__setattr__` per field (15 for a `ChatResult`): filling the instance's
    `__dict__` at once costs a third of that. `values` must name every field.
    """
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


@dataclass(frozen=True)
class Usage:
    """Token counts Azure reported for one call.

    `cached_tokens` (part of `prompt_tokens`, billed at a discount) and `reasoning_tokens`
    (part of `completion_tokens`) are 0 when Azure did not report them.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_openai(cls, usage: Any) -> Usage:
        """Build from an `openai` usage object (or `None`, giving zeros).

        Reads chat's `prompt_tokens` / `completion_tokens` (+ `*_tokens_details`) and the
        Responses API's `input_tokens` / `output_tokens` (+ `*_tokens_details`).
        """
        if usage is None:
            return cls()
        # Read the fields' values, not attributes: asking a pydantic model for a field it
        # does not have (`prompt_tokens` on a Responses usage) raises, and that is slow.
        get = _fields(usage).get
        if get("prompt_tokens") is not None or get("input_tokens") is None:
            p, c, p_details, c_details = _CHAT_USAGE
        else:
            p, c, p_details, c_details = _RESPONSES_USAGE
        prompt, completion = _count(get(p)), _count(get(c))
        return built(
            cls,
            {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": _count(get("total_tokens")) or prompt + completion,
                "cached_tokens": _count(_fields(get(p_details)).get("cached_tokens")),
                "reasoning_tokens": _count(_fields(get(c_details)).get("reasoning_tokens")),
            },
        )


#: Usage field names: chat completions', then the Responses API's.
_CHAT_USAGE = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
)
_RESPONSES_USAGE = (
    "input_tokens",
    "output_tokens",
    "input_tokens_details",
    "output_tokens_details",
)
_NO_FIELDS: dict[str, Any] = {}


def _count(value: Any) -> int:
    # `type() is int` also turns away bools (and is one check, on the hot path).
    return value if type(value) is int and value > 0 else 0


def _fields(obj: Any) -> dict[str, Any]:
    if obj is None:
        return _NO_FIELDS
    if isinstance(obj, dict):
        return obj
    values = getattr(obj, "__dict__", None)
    return values if isinstance(values, dict) else {}


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
        if not isinstance(data, dict) and not isinstance(data, Mapping):  # dict: the fast path
            return None
        error = data.get("error")
        message = None
        if error is not None and isinstance(error, Mapping):
            message = str(error.get("message") or error.get("code") or "content filter error")
        return built(cls, {"categories": _LazyCategories(data), "error": message})


def prompt_filter_from(extra: Mapping[str, Any] | None) -> ContentFilterReport | None:
    """The prompt's report from `prompt_filter_results` (a list for chat, an object for images)."""
    if not extra:
        return None
    results = extra.get("prompt_filter_results")
    if isinstance(results, list):
        results = results[0] if results else None
    if isinstance(results, (dict, Mapping)) and "content_filter_results" in results:
        results = results["content_filter_results"]
    return ContentFilterReport.from_json(results)


def completion_filter_from(extra: Mapping[str, Any] | None) -> ContentFilterReport | None:
    """Read a choice's or an image's `content_filter_results`."""
    if not extra:
        return None
    return ContentFilterReport.from_json(extra.get("content_filter_results"))


@dataclass(frozen=True)
class Served:
    """Where a result came from: the part every result type shares.

    `attempts` lists every HTTP attempt of the call, the successful one last.
    """

    deployment: str = ""
    endpoint: str = ""
    region: str | None = None
    request_id: str | None = None
    attempts: tuple[Attempt, ...] = ()

    def parts(self) -> tuple[str, str, str | None, str | None, tuple[Attempt, ...]]:
        """The served fields in order, to start any result type with them."""
        return self.deployment, self.endpoint, self.region, self.request_id, self.attempts


@dataclass(frozen=True)
class Choice:
    """One of the answers of a chat call (`n=2` asks for two), kept apart by `index`."""

    index: int = 0
    text: str = ""
    finish_reason: str | None = None
    content_filter: ContentFilterReport | None = None


@dataclass(frozen=True)
class ChatResult(Served):
    """A chat completion: the text and everything Azure said about it.

    `text`, `finish_reason`, `completion_filter` and `refusal` are the first choice's;
    `choices` has every choice, by index. `parsed` is the pydantic instance when the call
    passed `response_format=` a model (None when the model refused: `refusal` says why).
    `raw` is the `openai` `ChatCompletion` (or `None` for a streamed result), for fields the
    kit does not surface.
    """

    text: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    prompt_filter: ContentFilterReport | None = None
    completion_filter: ContentFilterReport | None = None
    choices: tuple[Choice, ...] = ()
    raw: Any = field(default=None, repr=False)
    parsed: Any = None
    refusal: str | None = None

    @classmethod
    def from_choices(
        cls,
        served: Served,
        choices: Sequence[Choice],
        *,
        usage: Usage,
        model: str | None,
        prompt_filter: ContentFilterReport | None,
        raw: Any = None,
        refusal: str | None = None,
    ) -> ChatResult:
        """A result from its choices (ordered by index); the first one gives `text` & co."""
        first = choices[0] if choices else Choice()
        return built(
            cls,
            {
                "deployment": served.deployment,
                "endpoint": served.endpoint,
                "region": served.region,
                "request_id": served.request_id,
                "attempts": served.attempts,
                "text": first.text,
                "finish_reason": first.finish_reason,
                "usage": usage,
                "model": model,
                "prompt_filter": prompt_filter,
                "completion_filter": first.content_filter,
                "choices": tuple(choices),
                "raw": raw,
                "parsed": None,
                "refusal": refusal,
            },
        )

    @property
    def tool_calls(self) -> list[Any]:
        """The tool calls of the first choice (empty when the model answered in text)."""
        if self.raw is None or not self.raw.choices:
            return []
        return list(self.raw.choices[0].message.tool_calls or [])


@dataclass(slots=True)  # not frozen: one is made per streamed chunk, and frozen costs 3.5×
class ChatChunk:
    """One piece of a streamed answer. `text` is empty for Azure's annotation-only chunks.

    `index` says which choice the piece belongs to when `n` > 1 (chunks of different
    choices interleave).
    """

    text: str = ""
    finish_reason: str | None = None
    raw: Any = field(default=None, repr=False)
    index: int = 0


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
class ImageResult(Served):
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
class EmbeddingResult(Served):
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
            f.flush()
            # Without this, a crash soon after the rename can leave an empty file behind it.
            os.fsync(f.fileno())
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
                data=_decode_image(b64) if b64 is not None else b"",
                revised_prompt=getattr(item, "revised_prompt", None),
                url=getattr(item, "url", None),
                content_filter=completion_filter_from(extra),
                prompt_filter=prompt_filter_from(extra),
            )
        )
    return tuple(images)


def _decode_image(b64: Any) -> bytes:
    """An image's bytes from its base64 text; `ServiceError` for anything that is not one."""
    from ._exceptions import ServiceError

    try:
        data = base64.b64decode("".join(str(b64).split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise ServiceError(
            "the image in the response is not valid base64 (a truncated or corrupted body); "
            "try again, or ask for response_format='url'"
        )
    return data


def chat_result(completion: Any, served: Served) -> ChatResult:
    """Convert an `openai` ChatCompletion into a `ChatResult`."""
    raw_choices = completion.choices or ()
    if len(raw_choices) > 1:  # n > 1: Azure may answer them in any order
        raw_choices = sorted(raw_choices, key=lambda c: c.index or 0)
    choices = []
    for c in raw_choices:
        choice = {
            "index": int(c.index or 0),
            "text": (c.message.content or "") if c.message is not None else "",
            "finish_reason": c.finish_reason,
            # pydantic's `model_extra`, read without the property's call
            "content_filter": completion_filter_from(c.__pydantic_extra__),
        }
        choices.append(built(Choice, choice))
    first = raw_choices[0] if raw_choices else None
    message = first.message if first is not None else None
    return ChatResult.from_choices(
        served,
        choices,
        usage=Usage.from_openai(completion.usage),
        model=completion.model or None,
        prompt_filter=prompt_filter_from(completion.__pydantic_extra__),
        raw=completion,
        refusal=getattr(message, "refusal", None) or None,
    )


def image_result(response: Any, served: Served) -> ImageResult:
    """Convert an `openai` ImagesResponse into an `ImageResult`."""
    return ImageResult(
        *served.parts(),
        images=decode_images(response.data or ()),
        created=getattr(response, "created", None),
        raw=response,
    )


def embedding_result(response: Any, served: Served) -> EmbeddingResult:
    """Convert an `openai` CreateEmbeddingResponse into an `EmbeddingResult`."""
    return EmbeddingResult(
        *served.parts(),
        vectors=tuple(list(item.embedding) for item in sorted(response.data, key=_index)),
        usage=Usage.from_openai(response.usage),
        model=response.model or None,
        raw=response,
    )


def _index(item: Any) -> int:
    return int(item.index)
