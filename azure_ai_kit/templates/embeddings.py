"""Embeddings: embed a few documents, then find the ones closest to a question.

python app.py                          # or: python app.py "your question"
"""

from __future__ import annotations

import math
import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError

DOCUMENTS = [
    "Refunds are paid within 14 days of receiving the returned item.",
    "Our support desk is open on weekdays from 8am to 6pm.",
    "Orders over 50 euros ship free within the European Union.",
    "You can change your password from the account settings page.",
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def main() -> int:
    question = " ".join(sys.argv[1:]) or "How long does a refund take?"
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            # One request embeds the question and every document.
            vectors = client.embed([question, *DOCUMENTS], model="embedding").vectors
        except AzureAIKitError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    scores = sorted(
        ((cosine(vectors[0], v), d) for v, d in zip(vectors[1:], DOCUMENTS, strict=True)),
        reverse=True,
    )
    print(f"question: {question}")
    for score, document in scores[:3]:
        print(f"{score:6.3f}  {document}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
