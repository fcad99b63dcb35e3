"""Image prompt studio: turn a short idea into images with DALL·E 3 or gpt-image-1 on Azure OpenAI.

    python samples/image_prompt.py "a fox reading a newspaper" --quality hd --style natural

A chat "art director" first expands the idea (--no-enhance skips it); options are checked
against the image model before anything is sent; each image gets a JSON sidecar with the
prompts, settings and content-filter results. No AZURE_OPENAI_ENDPOINT? It runs on the emulator.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from azure_ai_kit import (
    AuthenticationError,
    AzureAIClient,
    AzureAIKitError,
    ConfigurationError,
    ContentFilteredError,
    ContentFilterReport,
    Deployment,
    DeploymentNotFoundError,
    GeneratedImage,
    RateLimitedError,
    ServiceError,
    write_atomic,
)

# What each model family accepts (WIRE.md, "Images"); DEFAULTS are what this sample sends
# when an option is not given.
FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "dall-e-3": {
        "size": ("1024x1024", "1792x1024", "1024x1792"),
        "quality": ("standard", "hd"),
        "style": ("vivid", "natural"),
        "format": ("png",),
    },
    "gpt-image-1": {
        "size": ("1024x1024", "1024x1536", "1536x1024"),
        "quality": ("low", "medium", "high"),
        "style": (),
        "format": ("png", "jpeg"),
    },
}
DEFAULTS = {"dall-e-3": ("standard", "vivid"), "gpt-image-1": ("medium", None)}
MAX_N = {"dall-e-3": 1, "gpt-image-1": 10}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg"}

ART_DIRECTOR = (
    "You are an art director writing prompts for an image-generation model. Rewrite the user's "
    "idea as ONE vivid, concrete image prompt of 40-80 words: the subject and what it is doing, "
    "the setting, composition and camera angle, lighting, colour palette, medium or artistic "
    "style, and mood. Keep every element of the idea; add nothing violent, sexual, hateful, "
    "trademarked or resembling a real person. Reply with the prompt only: no preamble, no quotes."
)

EXAMPLES = """\
examples:
  %(prog)s "a fox reading a newspaper"
  %(prog)s "a lighthouse in a storm" --size 1792x1024 --quality hd --style natural
  %(prog)s "isometric tiny kitchen" --model gpt-image-1 --n 3 --format jpeg --no-enhance
  %(prog)s "a watercolour fox" --out build/images --force

exit codes: 0 ok, 1 could not save, 2 usage, 3 content filtered,
            4 throttled/unavailable, 5 authentication/configuration
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Generate images from an idea with Azure OpenAI (DALL·E 3 or gpt-image-1)\n"
        "and save each one with a JSON sidecar. Runs on the local emulator (synthetic\n"
        "images) when AZURE_OPENAI_ENDPOINT is not set.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("idea", help="what to draw, in a few words")
    p.add_argument("--model", default="image", help="alias or deployment name (default: image)")
    p.add_argument("--family", choices=["auto", *FAMILIES], default="auto",
                   help="model family (default: auto, from the deployment's name)")  # fmt: skip
    p.add_argument("--size", default="1024x1024", help="WIDTHxHEIGHT (default: 1024x1024)")
    p.add_argument("--quality", help="dall-e-3: standard|hd; gpt-image-1: low|medium|high")
    p.add_argument("--style", help="dall-e-3 only: vivid|natural")
    p.add_argument("--n", "-n", type=int, default=1, help="images to make (dall-e-3: 1 only)")
    p.add_argument("--format", choices=list(EXTENSIONS), help="png (default) or jpeg (gpt-image-1)")
    p.add_argument("--out", type=Path, default=Path("images"), help="folder (default: images/)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--enhance", action=argparse.BooleanOptionalAction, default=True,
                   help="expand the idea with the chat model first (default: on)")  # fmt: skip
    return p


def find_deployment(client: AzureAIClient, model: str) -> Deployment | None:
    """The first deployment `model` names: an alias, a deployment name or a base model."""
    return next((d for d in client.deployments if model in (*d.aliases, d.name, d.model)), None)


def infer_family(deployment: Deployment) -> str:
    if "gpt-image" in (deployment.model or deployment.name).lower():
        return "gpt-image-1"
    return "dall-e-3"  # "dall-e" in the name, or a custom name: Azure's classic image model


def check_options(args: argparse.Namespace, family: str) -> str | None:
    """Fill in the family's defaults; return a message naming the allowed values, or None."""
    rules = FAMILIES[family]
    if args.style and not rules["style"]:
        return f"{family} does not take --style; describe the style in the idea instead"
    args.quality = args.quality or DEFAULTS[family][0]
    args.style = args.style or DEFAULTS[family][1]
    args.format = args.format or "png"
    if not 1 <= args.n <= MAX_N[family]:
        most = "1 image" if MAX_N[family] == 1 else f"1 to {MAX_N[family]} images"
        return f"{family} makes {most} per request; got --n {args.n}"
    for option in ("size", "quality", "style", "format"):
        value = getattr(args, option)
        if value is not None and value not in rules[option]:
            allowed = ", ".join(rules[option])
            return f"{family} does not support --{option} {value}; choose one of: {allowed}"
    return None


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-")
    return slug or "image"


def report_dict(report: ContentFilterReport | None) -> dict[str, Any] | None:
    """A content-filter report as plain JSON: {"hate": {"filtered": false, ...}, ...}."""
    if report is None:
        return None
    out: dict[str, Any] = {
        name: {k: v for k, v in asdict(result).items() if v is not None}
        for name, result in report.categories.items()
    }
    if report.error:
        out["error"] = report.error
    return out


def enhance(client: AzureAIClient, idea: str) -> str:
    print("Enhancing the idea with the chat deployment…", file=sys.stderr)
    reply = client.chat(idea, model="chat", system=ART_DIRECTOR, max_tokens=300)
    return reply.text.strip().strip('"') or idea


def save_all(
    images: tuple[GeneratedImage, ...], stems: list[Path], meta: dict[str, Any], force: bool
) -> list[Path]:
    """Write each image and its JSON sidecar atomically; return the image paths.

    On any failure, remove every file this call wrote, then re-raise: nothing half-saved is left.
    """
    written: list[Path] = []

    def put(path: Path, data: bytes) -> Path:
        written.append(write_atomic(path, data, overwrite=force))
        return path

    try:
        for index, (image, stem) in enumerate(zip(images, stems, strict=True), start=1):
            ext = EXTENSIONS.get(image.format, f".{image.format}")  # sniffed from the bytes
            path = put(stem.with_suffix(ext), image.data)
            sidecar = {
                **meta,
                "index": index,
                "file": path.name,
                "revised_prompt": image.revised_prompt,
                "content_filter": {
                    "prompt": report_dict(image.prompt_filter),
                    "image": report_dict(image.content_filter),
                },
            }
            text = json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n"
            put(stem.with_suffix(".json"), text.encode("utf-8"))
    except BaseException:
        for written_path in written:
            written_path.unlink(missing_ok=True)
        raise
    return written[::2]


def run(client: AzureAIClient, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Validate, enhance, generate, save and print; Azure errors propagate to main()."""
    deployment = find_deployment(client, args.model)
    if deployment is None:  # fail before the chat call, not after it
        names = sorted({n for d in client.deployments for n in (*d.aliases, d.name)})
        print(f"error: no deployment matches --model {args.model}; known: {', '.join(names)}."
              " Set AZURE_OPENAI_IMAGE_DEPLOYMENT.", file=sys.stderr)  # fmt: skip
        return 5
    family = infer_family(deployment) if args.family == "auto" else args.family
    problem = check_options(args, family) if args.idea.strip() else "the idea is empty"
    if problem:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return 2
    stems = [args.out / f"{slugify(args.idea)}-{i}" for i in range(1, args.n + 1)]
    targets = [s.with_suffix(x) for s in stems for x in (EXTENSIONS[args.format], ".json")]
    if not args.force and (clash := [t for t in targets if t.exists()]):
        print(f"error: {clash[0]} already exists; pass --force to overwrite it", file=sys.stderr)
        return 1

    prompt = enhance(client, args.idea) if args.enhance else args.idea
    if args.enhance:
        print(f"Prompt: {prompt}")
    extra: dict[str, Any] = {"quality": args.quality}
    if family == "dall-e-3":
        extra["style"] = args.style
    else:
        extra["output_format"] = args.format
    settings = ", ".join([args.size, *extra.values()])
    print(f"Generating {args.n} image(s) with {family} ({settings})…", file=sys.stderr)
    result = client.generate_image(prompt, model=args.model, size=args.size, n=args.n, **extra)
    created = datetime.fromtimestamp(result.created or time.time(), timezone.utc)
    meta = {
        "idea": args.idea,
        "prompt": prompt,
        "deployment": result.deployment,
        "family": family,
        "size": args.size,
        "quality": args.quality,
        "style": args.style,
        "format": args.format,
        "created": created.isoformat(),
        "request_id": result.request_id,
    }
    paths = save_all(result.images, stems[: len(result.images)], meta, args.force)
    for path, image in zip(paths, result.images, strict=True):
        print(path)
        if image.revised_prompt:
            print(f"  revised prompt: {image.revised_prompt}")
    print(f"usage: {client.usage().summary()}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None, *, client: AzureAIClient | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse caught (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    owned = client is None
    try:
        if client is None:
            client = AzureAIClient.from_env(fallback="emulator")
        return run(client, args, parser)
    except ContentFilteredError as e:
        fired = ", ".join(e.filtered_categories) or "unspecified"
        print(f"Blocked by Azure's content filter: {fired}. Nothing was saved.", file=sys.stderr)
        return 3
    except (RateLimitedError, ServiceError) as e:
        if isinstance(e, ServiceError) and 400 <= (e.status_code or 0) < 500:  # not transient
            print(f"error: Azure rejected the request: {e}", file=sys.stderr)
            return 1
        print(f"Azure OpenAI is busy or unavailable; try again later. {e}", file=sys.stderr)
        return 4
    except (AuthenticationError, ConfigurationError, DeploymentNotFoundError) as e:
        print(f"Check your Azure OpenAI configuration: {e}", file=sys.stderr)
        return 5
    except AzureAIKitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: could not save the images; nothing was kept ({e})", file=sys.stderr)
        return 1
    finally:
        if owned and client is not None:
            client.close()


if __name__ == "__main__":
    sys.exit(main())
