"""Properties of the pure helpers: the token estimate, extracts, schema instances, limits."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azure_ai_kit.emulator._limits import RateLimiter
from azure_ai_kit.emulator._synth import estimate_tokens, extract, instance_from_schema

# No example database (nothing written to the working tree) and bounded effort.
QUICK = settings(
    database=None, max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@QUICK
@given(st.text())
def test_estimate_is_ceil_len_over_4(text: str) -> None:
    assert estimate_tokens(text) == math.ceil(len(text) / 4)


WORDS = ("river", "flood", "bridge", "farm", "rain", "valley", "cattle", "spring", "fox", "town")


@QUICK
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), min_size=1, max_size=12))
def test_extract_is_a_subsequence_of_the_sentences(word_lists: list[list[str]]) -> None:
    sentences = [f"Item{i} {' '.join(words)}." for i, words in enumerate(word_lists)]
    picked = re.split(r"(?<=[.!?])\s+", extract(" ".join(sentences)))
    assert picked
    rest = iter(sentences)
    assert all(any(p == s for s in rest) for p in picked)


SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 5},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "string", "enum": ["a", "b"]},
        {"type": ["null", "integer"]},
    ]
)
SCHEMAS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(lambda items: {"type": "array", "items": items, "minItems": 2}, inner),
        st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), inner, max_size=4).map(
            lambda props: {"type": "object", "properties": props, "required": sorted(props)}
        ),
    ),
    max_leaves=10,
)


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema["type"]
    if isinstance(kind, list):
        return value is None or isinstance(value, int)
    if kind == "object":
        return isinstance(value, dict) and all(
            name in value and conforms(value[name], sub)
            for name, sub in schema["properties"].items()
        )
    if kind == "array":
        return (
            isinstance(value, list)
            and len(value) >= 2
            and all(conforms(v, schema["items"]) for v in value)
        )
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: (
            isinstance(v, int) and not isinstance(v, bool) and v >= schema.get("minimum", v)
        ),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    return bool(checks[kind](value))


@QUICK
@given(SCHEMAS)
def test_schema_instances_conform(schema: dict[str, Any]) -> None:
    assert conforms(instance_from_schema(schema), schema)


@QUICK
@given(st.lists(st.floats(min_value=0, max_value=5), max_size=30))
def test_bucket_never_admits_more_than_capacity_plus_refill(gaps: list[float]) -> None:
    now = [0.0]
    limiter = RateLimiter(tpm=600, rpm=600_000, clock=lambda: now[0])
    charged = 0
    for gap in gaps:
        now[0] += gap
        if limiter.admit(100).allowed:
            charged += 100
    assert charged <= 600 + now[0] * 10 + 1e-6
