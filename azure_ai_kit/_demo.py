"""`make demo` until the samples land: one chat, one stream and one embedding on the emulator."""

from __future__ import annotations

import sys

from . import AzureAIClient


def main() -> int:
    """Run a short tour of the API against the in-process emulator and print what it returns."""
    print("azure-ai-kit demo: running on the local emulator (no Azure account needed)\n")
    with AzureAIClient.for_emulator() as client:
        r = client.chat(
            "Azure OpenAI gives enterprises GPT-4o with regional data residency. "
            "The partnership pairs Microsoft's cloud with OpenAI's models.",
            system="Summarise in one line.",
            max_tokens=60,
        )
        print(f"chat      → {r.text}")
        print(f"            {r.usage.total_tokens} tokens from {r.deployment} in {r.region}")
        with client.stream_chat("Explain list comprehensions briefly.", model="code") as stream:
            print("stream    → ", end="")
            for chunk in stream:
                print(chunk.text, end="", flush=True)
        print()
        vectors = client.embed(["fox", "hound"]).vectors
        print(f"embedding → {len(vectors)} vectors of {len(vectors[0])} dimensions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
