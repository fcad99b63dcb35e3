"""Deterministic text synthesis: the token estimate, prompt extracts and schema instances.

Everything here is a pure function of its input so that the emulator's answers are reproducible.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

__all__ = ["estimate_tokens", "extract", "instance_from_schema", "short_hash"]

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_STOPWORD_TEXT = (
    "a an and are as at be been but by can could did do does for from had has have he her his "
    "how i if in into is it its me my no not of on or our she so than that the their them then "
    "there these they this those to too us was we were what when where which who why will with "
    "would you your please summarise summarize text following about"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def estimate_tokens(text: str) -> int:
    """Estimate tokens as ``ceil(len(text) / 4)`` — the emulator's single, documented rule."""
    return math.ceil(len(text) / 4)


def short_hash(*parts: object, length: int = 12) -> str:
    """A stable hex digest of *parts* (used for ids, colours and seeds)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:length]


def extract(text: str, *, max_sentences: int = 3) -> str:
    """Pick the most content-bearing sentences of *text*, kept in their original order.

    Sentences are scored by the summed corpus frequency of their non-stopword words, divided by
    a gentle length penalty, so a "summary" reads like an extract of the source.
    """
    sentences = [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]
    if not sentences:
        return ""
    if len(sentences) <= 1:
        return sentences[0]
    freq: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if word not in _STOPWORDS and len(word) > 2:
            freq[word] = freq.get(word, 0) + 1
    scored: list[tuple[float, int]] = []
    for index, sentence in enumerate(sentences):
        words = [w for w in _WORD.findall(sentence.lower()) if w in freq]
        score = sum(freq[w] for w in words) / math.sqrt(len(sentence.split()) + 1)
        scored.append((score, index))
    keep = max(1, min(max_sentences, math.ceil(len(sentences) / 3)))
    chosen = sorted(index for _, index in sorted(scored, key=lambda t: (-t[0], t[1]))[:keep])
    return " ".join(sentences[i] for i in chosen)


def instance_from_schema(schema: Any, *, hint: str = "value", seed: str = "") -> Any:
    """Build a deterministic JSON instance that validates against a (practical) JSON Schema.

    Handles ``type`` (incl. lists), ``properties``/``required``, ``enum``/``const``, ``items``,
    ``min/maxItems``, ``min/maxLength``, numeric bounds, ``anyOf``/``oneOf``/``allOf`` and local
    ``$ref`` into ``$defs``/``definitions``. Every declared property is filled in, which also
    satisfies OpenAI's strict mode (all properties required).
    """
    return _Builder(schema if isinstance(schema, dict) else {}, seed).build(schema, hint, 0)


class _Builder:
    def __init__(self, root: dict[str, Any], seed: str) -> None:
        self._root = root
        self._seed = seed

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            ref = str(schema["$ref"])
            node: Any = self._root
            if not ref.startswith("#"):
                return {}
            for part in [p for p in ref[1:].split("/") if p]:
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema = node if isinstance(node, dict) else {}
            seen += 1
        return schema

    def build(self, schema: Any, hint: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > 12:
            return None if depth > 12 else f"emulated {hint}"
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                return self.build((non_null or options)[0], hint, depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = self._resolve(part) if isinstance(part, dict) else {}
                for k, v in part.items():
                    if k in ("properties",) and isinstance(v, dict):
                        merged.setdefault("properties", {}).update(v)
                    elif k == "required" and isinstance(v, list):
                        merged.setdefault("required", []).extend(v)
                    else:
                        merged.setdefault(k, v)
            return self.build(merged, hint, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = (
                "object" if "properties" in schema else "array" if "items" in schema else "string"
            )
        return self._typed(str(kind), schema, hint, depth)

    def _typed(self, kind: str, schema: dict[str, Any], hint: str, depth: int) -> Any:
        if kind == "object":
            props = schema.get("properties") or {}
            return {
                str(name): self.build(sub, str(name), depth + 1)
                for name, sub in props.items()
                if isinstance(props, dict)
            }
        if kind == "array":
            count = max(1, int(schema.get("minItems", 1)))
            if "maxItems" in schema:
                count = min(count, int(schema["maxItems"]))
            item = schema.get("items", {})
            return [self.build(item, hint, depth + 1) for _ in range(count)]
        if kind in ("integer", "number"):
            return self._number(kind, schema)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, hint)

    def _number(self, kind: str, schema: dict[str, Any]) -> int | float:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        value: float = 1
        if isinstance(low, (int, float)):
            value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
        if isinstance(high, (int, float)) and value > high:
            value = high
        return int(value) if kind == "integer" else float(value)

    def _string(self, schema: dict[str, Any], hint: str) -> str:
        fmt = schema.get("format")
        formats = {
            "date": "2024-01-01",
            "date-time": "2024-01-01T00:00:00Z",
            "time": "00:00:00Z",
            "email": "emulated@example.com",
            "uri": "https://example.com/emulated",
            "uuid": "00000000-0000-4000-8000-000000000000",
        }
        text = formats.get(str(fmt), f"emulated {hint}")
        min_len = int(schema.get("minLength", 0))
        if len(text) < min_len:
            text = text + "x" * (min_len - len(text))
        if "maxLength" in schema:
            text = text[: int(schema["maxLength"])]
        return text
