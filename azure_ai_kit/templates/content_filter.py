"""Content filter: what your app sees when Azure blocks a prompt, and how to answer the user.

    python app.py                          # or: python app.py "your prompt"

On the emulator, a prompt with the word "forbidden-word" in it is blocked (category violence).
"""

from __future__ import annotations

import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError, ContentFilteredError

PROMPTS = ["Tell me about foxes.", "Describe a forbidden-word fox."]


def ask(client: AzureAIClient, prompt: str) -> None:
    try:
        result = client.chat(prompt, model="chat", max_tokens=100)
        print(f"ok:      {result.text}")
    except ContentFilteredError as exc:
        # source: "prompt" (nothing was generated) or "completion" (the answer was cut).
        categories = ", ".join(exc.filtered_categories) or "unspecified"
        print(f"blocked: the {exc.source} tripped the content filter ({categories})")
        print("         tell the user to rephrase; do not retry the same text")


def main() -> int:
    prompts = [" ".join(sys.argv[1:])] if sys.argv[1:] else PROMPTS
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            for prompt in prompts:
                ask(client, prompt)
        except AzureAIKitError as exc:  # anything else: throttling, auth, …
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
