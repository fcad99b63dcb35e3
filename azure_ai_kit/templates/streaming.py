"""Streaming: print the answer as it is written, then its token usage.

python app.py                          # or: python app.py "your prompt"
"""

from __future__ import annotations

import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError, ContentFilteredError


def main() -> int:
    prompt = " ".join(sys.argv[1:]) or "Write a haiku about failover."
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            with client.stream_chat(prompt, model="chat", max_tokens=300) as stream:
                for chunk in stream:
                    print(chunk.text, end="", flush=True)
            print()
        except ContentFilteredError as exc:  # the filter can cut a stream part-way
            print(f"\n[stopped by the content filter: {', '.join(exc.filtered_categories)}]")
            return 3
        except AzureAIKitError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    result = stream.result  # the whole answer, as chat() would have returned it
    print(f"-- {result.finish_reason}, {result.usage.total_tokens} tokens", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
