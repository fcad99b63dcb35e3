"""`azure-ai-kit new`: write a runnable starter (app.py, .env.example, README.md) into a folder.

The starters are the files in `azure_ai_kit/templates/`. The three sample apps live in the
repository's `samples/` folder and the wheel carries them into the same place
(`[tool.hatch.build.targets.wheel.force-include]` in pyproject.toml): one source, two doors.
To add a starter, put its `NAME.py` in `templates/` and one `Template` line in `TEMPLATES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["TEMPLATES", "Template", "template_source", "write_template"]

_PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
_REPO_SAMPLES = Path(__file__).parent.parent / "samples"  # a checkout: the samples' source


@dataclass(frozen=True)
class Template:
    """One starter: what it shows, how to try it, and what to change first."""

    summary: str
    change: str
    run: str = "python app.py"


TEMPLATES: dict[str, Template] = {
    "chat": Template(
        "one question, one answer, tokens and region",
        "the question and SYSTEM; `model=` picks the deployment (alias, name or base model).",
    ),
    "streaming": Template(
        "print an answer as it is written; a content-filter cut mid-stream",
        "the prompt; keep the `except ContentFilteredError` - Azure can stop a stream part-way.",
    ),
    "image": Template(
        "draw with DALL·E 3 and save the image and its revised prompt",
        "the prompt, `size=` and OUT; gpt-image-1 takes other sizes and `quality=low|medium|high`.",
    ),
    "embeddings": Template(
        "embed documents and rank them against a question (cosine similarity)",
        "DOCUMENTS: load yours, embed them once and store the vectors.",
    ),
    "pool": Template(
        "one model in two regions: priority failover and each deployment's health",
        "write pool.toml (see below) and set AZURE_AI_KIT_CONFIG=pool.toml.",
    ),
    "content_filter": Template(
        "what a blocked prompt looks like and how to answer the user",
        "PROMPTS, and what you tell your users when `exc.source` is 'prompt' or 'completion'.",
    ),
    "structured": Template(
        "extract a typed pydantic object from text; refusals and cut replies",
        "the `Contact` model's fields and TEXT; `result.parsed` is an instance of your model.",
    ),
    "responses": Template(
        "the Responses API: an answer, a follow-up turn that remembers it, a stream",
        "the questions and INSTRUCTIONS (sent on every turn: a response does not carry them).",
    ),
    "summariser": Template(
        "sample app: summarise files, folders, HTML or stdin (chunked map-reduce)",
        "STYLES and MAP_PROMPT; run `python app.py --help` for every option.",
        run="python app.py                 # then: python app.py notes.md --style brief",
    ),
    "image_prompt": Template(
        "sample app: an idea → an art-directed prompt → images with JSON sidecars",
        "ART_DIRECTOR and FAMILIES; run `python app.py --help` for every option.",
        run='python app.py                 # then: python app.py "a lighthouse in a storm"',
    ),
    "code_helper": Template(
        "sample app: explain, review, fix, ask and write tests for code",
        "SYSTEM and PROMPTS; run `python app.py --help` for every command.",
        run="python app.py                 # then: python app.py explain app.py:1-20",
    ),
}

ENV_EXAMPLE = """\
# Copy to .env (never commit .env) and fill in. With no AZURE_OPENAI_ENDPOINT the app runs
# on the local emulator (synthetic replies); AZURE_AI_KIT_EMULATOR=1 forces the emulator.
AZURE_OPENAI_ENDPOINT=https://my-resource.openai.azure.com
# Leave the key unset to sign in with Microsoft Entra ID (`az login`, managed identity);
# the principal needs the "Cognitive Services OpenAI User" role on the resource.
AZURE_OPENAI_API_KEY=
# The names you gave your deployments, by the alias the code asks for (model="chat", …).
AZURE_OPENAI_CHAT_DEPLOYMENT=gpt-4o-mini
AZURE_OPENAI_CODE_DEPLOYMENT=gpt-4.1
AZURE_OPENAI_IMAGE_DEPLOYMENT=dall-e-3
AZURE_OPENAI_EMBEDDING_DEPLOYMENT=text-embedding-3-small
# A pool across regions instead (replaces the endpoint and deployment variables):
# AZURE_AI_KIT_CONFIG=pool.toml
"""

POOL_TOML = """
A pool file (`pool.toml`) lists each deployment once; lower `priority` is tried first:

```toml
[[deployment]]
name = "gpt-4o-mini"
endpoint = "https://my-eastus.openai.azure.com"
aliases = ["chat"]
priority = 0
api_key_env = "EASTUS_KEY"        # leave out to sign in with Entra ID

[[deployment]]
name = "gpt-4o-mini"
endpoint = "https://my-swedencentral.openai.azure.com"
aliases = ["chat"]
priority = 1
api_key_env = "SWEDEN_KEY"
```
"""


def template_source(name: str) -> Path:
    """The file a template is written from; KeyError naming the known ones if unknown."""
    if name not in TEMPLATES:
        raise KeyError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    for folder in (_PACKAGE_TEMPLATES, _REPO_SAMPLES):
        if (folder / f"{name}.py").is_file():
            return folder / f"{name}.py"
    raise FileNotFoundError(f"template {name!r} is missing from this installation")


def readme(name: str) -> str:
    """The README.md written beside a starter's app.py."""
    template = TEMPLATES[name]
    text = (
        f"# {name}\n\n{template.summary[0].upper()}{template.summary[1:]}.\n\n"
        "## Run it\n\n"
        "```sh\n"
        "pip install azure-ai-kit\n"
        "AZURE_AI_KIT_EMULATOR=1 python app.py   # on the local emulator, no Azure needed\n"
        + (f"{template.run}\n" if template.run != "python app.py" else "")
        + "```\n\n"
        "Without `AZURE_OPENAI_ENDPOINT` it runs on the local emulator, whose answers are\n"
        "synthetic. To call Azure, copy `.env.example` to `.env` and fill it in\n"
        "(`azure-ai-kit doctor` checks it).\n\n"
        f"## What to change\n\n{template.change}\n"
    )
    return text + POOL_TOML if name == "pool" else text


def write_template(name: str, folder: Path) -> list[Path]:
    """Write *name*'s app.py, .env.example and README.md into *folder* (new or empty)."""
    source = template_source(name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(
            f"{folder} is not an empty folder; nothing written. Choose a new or empty folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "app.py": source.read_text(encoding="utf-8"),
        ".env.example": ENV_EXAMPLE,
        "README.md": readme(name),
    }
    for file_name, text in files.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return [folder / file_name for file_name in files]
