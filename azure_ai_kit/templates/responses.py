"""Responses API: one answer, a follow-up turn that remembers it, and a streamed answer.

python app.py                          # or: python app.py "your first question"

A stored response lives on the deployment that made it: the kit sends the follow-up
(`previous_response_id=`) there, never to another region of a pool.
"""

from __future__ import annotations

import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError, ContentFilteredError

INSTRUCTIONS = "You are a concise assistant. Answer in at most three sentences."


def main() -> int:
    question = " ".join(sys.argv[1:]) or "Suggest a name for a cat who likes rain."
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            first = client.respond(question, instructions=INSTRUCTIONS, max_output_tokens=200)
            print(f"1> {first.text}")
            # The service keeps the conversation: send the new turn and the last id. Instructions
            # are not carried over from the previous response, so send them again.
            second = client.respond(
                "Now a shorter one.",
                previous_response_id=first.id,
                instructions=INSTRUCTIONS,
                max_output_tokens=200,
            )
            print(f"2> {second.text}  (same deployment: {second.deployment == first.deployment})")
            print("3> ", end="")
            with client.stream_respond("Write a haiku about rain.", max_output_tokens=200) as s:
                for chunk in s:
                    print(chunk.text, end="", flush=True)
            print()
        except ContentFilteredError as exc:  # a stream can be cut part-way
            print(f"\n[stopped by the content filter: {', '.join(exc.filtered_categories)}]")
            return 3
        except AzureAIKitError as exc:  # throttling, auth, a missing deployment, …
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"-- {s.result.status}; {client.usage().summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
