"""Small statistics helpers, used by the code_helper sample. It has a deliberate bug."""

from __future__ import annotations


def mean(values: list[float]) -> float:
    """The arithmetic mean of `values`."""
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """The middle value of `values`; the mean of the two middle ones for an even count."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def summary(values: list[float]) -> dict[str, float]:
    """Count, mean and median of `values`, for a report."""
    return {"count": len(values), "mean": mean(values), "median": median(values)}
