"""Images: draw a picture with DALL·E 3 and save it with its revised prompt.

python app.py                          # or: python app.py "a lighthouse in a storm"
"""

from __future__ import annotations

import sys
from pathlib import Path

from azure_ai_kit import AzureAIClient, AzureAIKitError

OUT = Path("image.png")


def main() -> int:
    prompt = " ".join(sys.argv[1:]) or "a watercolour fox reading a newspaper"
    with AzureAIClient.from_env(fallback="emulator") as client:
        try:
            # dall-e-3 takes size 1024x1024, 1792x1024 or 1024x1792 and one image per request.
            result = client.generate_image(prompt, model="image", size="1024x1024")
        except AzureAIKitError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    image = result.images[0]
    image.save(OUT)  # on the emulator: a small synthetic picture, not a drawing
    print(f"saved {OUT} ({len(image.data):,} bytes)")
    print(f"revised prompt: {image.revised_prompt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
