"""Chat: one question, one answer, and what it cost.

python app.py                          # or: python app.py "your question"
"""

from __future__ import annotations

import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError

SYSTEM = "You are a concise assistant. Answer in at most three sentences."


def main() -> int:
    question = " ".join(sys.argv[1:]) or "What is Azure OpenAI Service good for?"
    # Reads AZURE_OPENAI_* from the environment or .env; without an endpoint it runs on the
    # local emulator, whose answers are synthetic.
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            result = client.chat(question, model="chat", system=SYSTEM, max_tokens=200)
        except AzureAIKitError as exc:  # content filter, throttling, auth, …: one clear line
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(result.text)
    print(
        f"-- {result.usage.total_tokens} tokens, {result.deployment} in {result.region}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
