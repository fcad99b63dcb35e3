"""Image prompt studio: turn a short idea into images with DALL·E 3 or gpt-image-1 on Azure OpenAI.

    python image_prompt.py "a fox reading a newspaper" --quality hd --style natural
    python image_prompt.py            # no idea given: draws a built-in example

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
    AzureAIClient,
    ConfigurationError,
    ContentFilterReport,
    Deployment,
    GeneratedImage,
    write_atomic,
)
from azure_ai_kit.cli_support import EXIT_CODES, Console, UsageError, refuse_existing

# What each model family accepts; DEFAULTS are what this sample sends when an option is not
# given. Sources: https://learn.microsoft.com/azure/ai-foundry/openai/how-to/dall-e and
# https://platform.openai.com/docs/api-reference/images/create
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
MAX_PROMPT_CHARS = {"dall-e-3": 4000, "gpt-image-1": 32000}
EXAMPLE_IDEA = "a watercolour fox reading a newspaper"  # drawn when no idea is given
EXTENSIONS = {"png": ".png", "jpeg": ".jpg"}

ART_DIRECTOR = (
    "You are an art director writing prompts for an image-generation model. Rewrite the user's "
    "idea as ONE vivid, concrete image prompt of 40-80 words: the subject and what it is doing, "
    "the setting, composition and camera angle, lighting, colour palette, medium or artistic "
    "style, and mood. Keep every element of the idea; add nothing violent, sexual, hateful, "
    "trademarked or resembling a real person. Reply with the prompt only: no preamble, no quotes."
)

EXAMPLES = (
    """\
examples:
  %(prog)s "a fox reading a newspaper"
  %(prog)s "a lighthouse in a storm" --size 1792x1024 --quality hd --style natural
  %(prog)s "isometric tiny kitchen" --model gpt-image-1 --n 3 --format jpeg --no-enhance
  %(prog)s "a watercolour fox" --out build/images --force

--model names a deployment configured in the environment: for a gpt-image-1 deployment,
set AZURE_OPENAI_IMAGE_DEPLOYMENT=<its name> (then the default --model image finds it);
add --family gpt-image-1 when its name does not say which model it is.

"""
    + EXIT_CODES
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="image_prompt.py",
        description="Generate images from an idea with Azure OpenAI (DALL·E 3 or gpt-image-1)\n"
        "and save each one with a JSON sidecar. Runs on the local emulator (synthetic\n"
        "images) when AZURE_OPENAI_ENDPOINT is not set.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("idea", nargs="?", help="what to draw, in a few words (default: an example)")
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
    if not args.idea.strip():
        return "the idea is empty; say what to draw"
    if len(args.idea) > MAX_PROMPT_CHARS[family]:
        limit, length = MAX_PROMPT_CHARS[family], len(args.idea)
        return f"{family} takes prompts of up to {limit:,} characters; the idea has {length:,}"
    if args.out.exists() and not args.out.is_dir():
        return f"--out {args.out} is a file; give a folder for the images"
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


def enhance(client: AzureAIClient, idea: str, console: Console) -> str:
    console.status("enhancing the idea with the chat deployment…")
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


def run(client: AzureAIClient, args: argparse.Namespace, console: Console) -> int:
    """Validate, enhance, generate, save and print; Azure errors propagate to main()."""
    deployment = find_deployment(client, args.model)
    if deployment is None:  # fail before the chat call, not after it
        names = sorted({n for d in client.deployments for n in (*d.aliases, d.name)})
        raise ConfigurationError(
            f"no deployment matches --model {args.model}; known: {', '.join(names)}. "
            "Set AZURE_OPENAI_IMAGE_DEPLOYMENT to your image deployment's name."
        )
    family = infer_family(deployment) if args.family == "auto" else args.family
    problem = check_options(args, family)
    if problem:
        raise UsageError(problem)
    stems = [args.out / f"{slugify(args.idea)}-{i}" for i in range(1, args.n + 1)]
    refuse_existing(
        [s.with_suffix(x) for s in stems for x in (EXTENSIONS[args.format], ".json")],
        force=args.force,
    )

    prompt = enhance(client, args.idea, console) if args.enhance else args.idea
    if args.enhance:
        print(f"Prompt: {prompt}")
    extra: dict[str, Any] = {"quality": args.quality}
    if family == "dall-e-3":
        extra["style"] = args.style
    else:
        extra["output_format"] = args.format
    settings = ", ".join([args.size, *extra.values()])
    console.status(f"generating {args.n} image(s) with {family} ({settings})…")
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
    console.status(f"usage: {client.usage().summary()}")
    return 0


def main(argv: list[str] | None = None, *, client: AzureAIClient | None = None) -> int:
    """Run the command line; `client=` lets tests inject their own (the caller closes it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse caught (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    console = Console(parser.prog)
    if args.idea is None:
        console.status(f"no idea given; drawing an example: {EXAMPLE_IDEA!r}")
        args.idea = EXAMPLE_IDEA
    if client is not None:
        return console.run(lambda: run(client, args, console))

    def own_client() -> int:
        with AzureAIClient.from_env(fallback="emulator") as owned:
            return run(owned, args, console)

    return console.run(own_client)


if __name__ == "__main__":
    sys.exit(main())
