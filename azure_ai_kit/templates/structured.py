"""Structured output: the answer as a typed pydantic object, not text to parse.

python app.py                          # or: python app.py "a text to extract a contact from"

The kit sends the model's JSON schema in strict mode and validates the reply into `Contact`.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel

from azure_ai_kit import AzureAIClient, AzureAIKitError, StructuredOutputError

TEXT = (
    "Hi, this is Dana Whitfield from Contoso's finance team. Call me on +44 20 7946 0018 "
    "or write to dana.whitfield@contoso.example; I'm free after 3pm on weekdays."
)


class Contact(BaseModel):
    """What to extract: edit the fields (and their types) to change what comes back."""

    name: str
    company: str
    email: str
    phone: str
    best_time_to_call: str


def main() -> int:
    text = " ".join(sys.argv[1:]) or TEXT
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            result = client.chat(
                f"Extract the contact details from this message:\n\n{text}",
                model="chat",
                response_format=Contact,  # a pydantic model: result.parsed is a Contact
                max_tokens=300,
            )
        except StructuredOutputError as exc:  # cut by max_tokens, or not valid for Contact
            print(f"no contact ({exc.reason}); the model wrote: {exc.text[:200]}", file=sys.stderr)
            return 1
        except AzureAIKitError as exc:  # content filter, throttling, auth, …
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if result.parsed is None:  # the model declined; refusal says why
        print(f"refused: {result.refusal}", file=sys.stderr)
        return 1
    contact = result.parsed
    print(f"{contact.name} ({contact.company})")
    print(
        f"  email: {contact.email}\n  phone: {contact.phone}\n  when:  {contact.best_time_to_call}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
