"""`Settings`: configuration from the environment, a `.env` file, and an optional TOML pool file.

Accepts openai's variable names, Semantic Kernel's deployment names, and the kit's own.
Every failure becomes a `ConfigurationError` that names the variable to set; nothing secret
is ever put in a message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from ._deployment import Deployment
from ._endpoint import ALIASES, check_endpoint
from ._exceptions import ConfigurationError

__all__ = ["ALIASES", "POOL_KEYS", "Settings", "check_endpoint", "env_config", "load_pool_file"]

#: The keys a pool file's `[[deployment]]` table may hold.
POOL_KEYS = frozenset(
    {"name", "endpoint", "model", "aliases", "priority", "api_version", "api_key_env", "tpm", "rpm"}
)


def _env(*names: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names))


class Settings(BaseSettings):
    """Configuration read from the environment and, when present, `.env` in the working directory.

    Each field lists the variables it accepts, first match wins. Build it with `Settings()`
    (or let `AzureAIClient.from_env()` do it); never at import time.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    endpoint: str | None = _env("AZURE_OPENAI_ENDPOINT")
    api_key: SecretStr | None = _env("AZURE_OPENAI_API_KEY")
    ad_token: SecretStr | None = _env("AZURE_OPENAI_AD_TOKEN")
    api_version: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION"),
    )
    chat_deployment: str | None = _env(
        "AZURE_OPENAI_CHAT_DEPLOYMENT", "AZURE_OPENAI_CHAT_DEPLOYMENT_NAME"
    )
    code_deployment: str | None = _env("AZURE_OPENAI_CODE_DEPLOYMENT")
    image_deployment: str | None = _env("AZURE_OPENAI_IMAGE_DEPLOYMENT")
    embedding_deployment: str | None = _env(
        "AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME"
    )
    config_file: Path | None = _env("AZURE_AI_KIT_CONFIG")
    #: Where pool state lives: unset for this process, `redis://host:port/db` for a fleet
    #: (secret: a Redis URL may carry a password).
    state: SecretStr | None = _env("AZURE_AI_KIT_STATE")
    timeout: float = Field(
        default=60.0, gt=0, validation_alias=AliasChoices("AZURE_AI_KIT_TIMEOUT")
    )
    use_emulator: bool = Field(
        default=False, validation_alias=AliasChoices("AZURE_AI_KIT_EMULATOR")
    )

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """`AZURE_OPENAI_API_KEY=` (as in .env.example) means "not set", not an empty value."""
        if isinstance(value, str) and not value.strip() and info.field_name is not None:
            return cls.model_fields[info.field_name].default
        return value

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read settings; pydantic errors become a `ConfigurationError` naming the variable."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = []
            for err in exc.errors(include_input=False, include_url=False):
                field_name = str(err["loc"][0]) if err["loc"] else "?"
                problems.append(f"{_variable_for(field_name)}: {err['msg']}")
            raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
        except SettingsError as exc:
            raise ConfigurationError(f"could not read the configuration: {exc}") from None

    def deployment_map(self) -> dict[str, str]:
        """Alias → deployment name for every alias variable that is set."""
        names = {
            "chat": self.chat_deployment,
            "code": self.code_deployment,
            "image": self.image_deployment,
            "embedding": self.embedding_deployment,
        }
        return {alias: name for alias, name in names.items() if name}


def _variable_for(field_name: str) -> str:
    info = Settings.model_fields.get(field_name)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field_name


def load_pool_file(path: Path, environ: Mapping[str, str] | None = None) -> list[Deployment]:
    """Read a TOML pool file: `[[deployment]]` tables with name, endpoint, aliases, priority, ….

    Keys are referenced by environment-variable name (`api_key_env = "EASTUS_KEY"`), never
    inline; a table with an `api_key` entry is refused so a secret cannot sit in the file.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"AZURE_AI_KIT_CONFIG points at {path}, which does not exist"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read pool file {path} (AZURE_AI_KIT_CONFIG): {exc}"
        ) from None
    tables = data.get("deployment")
    if not isinstance(tables, list) or not tables:
        raise ConfigurationError(
            f"pool file {path} has no [[deployment]] tables; see .env.example for the format"
        )
    deployments = []
    for index, table in enumerate(tables):
        where = f"{path} [[deployment]] #{index + 1}"
        if "api_key" in table:
            raise ConfigurationError(
                f"{where}: never put a key in the pool file; set api_key_env to the name of "
                "an environment variable that holds it"
            )
        unknown = set(table) - POOL_KEYS
        if unknown:
            raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
        if "name" not in table or "endpoint" not in table:
            raise ConfigurationError(f"{where}: 'name' and 'endpoint' are required")
        credential = None
        key_env = table.get("api_key_env")
        if key_env is not None:
            if not env.get(key_env):
                raise ConfigurationError(f"{where}: api_key_env names {key_env}, which is not set")
            credential = SecretStr(env[key_env])
        try:
            deployments.append(
                Deployment(
                    str(table["name"]),
                    endpoint=check_endpoint(str(table["endpoint"]), variable=f"{where} endpoint"),
                    model=table.get("model"),
                    aliases=tuple(table.get("aliases", ())),
                    priority=int(table.get("priority", 0)),
                    api_version=table.get("api_version"),
                    credential=credential,
                    tpm=_quota(table, "tpm"),
                    rpm=_quota(table, "rpm"),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
    return deployments


def _quota(table: Mapping[str, Any], key: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        unit = "tokens" if key == "tpm" else "requests"
        raise ValueError(f"{key} must be a whole number of {unit} per minute, got {value!r}")
    return value


def env_config(*, asynchronous: bool, fallback: str | None = None) -> dict[str, Any]:
    """Client keyword arguments from `Settings` (env / `.env`) and the optional pool file.

    `fallback="emulator"` returns an in-process emulator's configuration when no endpoint
    is configured at all, or when AZURE_AI_KIT_EMULATOR=1 asks for it, and says so on stderr;
    without `fallback` the library never uses the emulator.
    """
    from ._auth import StaticToken, default_credential

    if fallback not in (None, "emulator"):
        raise ValueError(f"fallback must be None or 'emulator', not {fallback!r}")
    settings = Settings.load()
    if fallback == "emulator" and settings.use_emulator:
        print(
            "azure-ai-kit: AZURE_AI_KIT_EMULATOR is set; using the local emulator "
            "(replies are synthetic).",
            file=sys.stderr,
        )
        return _emulator(asynchronous)
    if fallback == "emulator" and settings.endpoint is None and settings.config_file is None:
        print(
            "azure-ai-kit: AZURE_OPENAI_ENDPOINT is not set; using the local emulator "
            "(replies are synthetic). Set it in .env to use Azure.",
            file=sys.stderr,
        )
        return _emulator(asynchronous)
    credential: Any
    if settings.api_key is not None:
        credential = settings.api_key
    elif settings.ad_token is not None:
        credential = StaticToken(settings.ad_token)
    else:
        credential = None  # resolved below, only if some deployment needs it
    if settings.config_file is not None:
        pool = load_pool_file(settings.config_file)
        if credential is None and any(d.credential is None for d in pool):
            credential = default_credential(asynchronous=asynchronous)
        return {
            "deployments": pool,
            "credential": credential,
            "timeout": settings.timeout,
            **_state(settings),
        }
    endpoint = check_endpoint(settings.endpoint)
    mapping = settings.deployment_map()
    if not mapping:
        raise ConfigurationError(
            "no deployments configured; set at least one of "
            + ", ".join(ALIASES.values())
            + " (or AZURE_AI_KIT_CONFIG for a pool file)"
        )
    if credential is None:
        credential = default_credential(asynchronous=asynchronous)
    return {
        "endpoint": endpoint,
        "deployments": mapping,
        "credential": credential,
        "api_version": settings.api_version,
        "timeout": settings.timeout,
        **_state(settings),
    }


def _state(settings: Settings) -> dict[str, Any]:
    return {} if settings.state is None else {"state": settings.state.get_secret_value()}


def _emulator(asynchronous: bool) -> dict[str, Any]:
    # Imported here so that a production client never imports the emulator.
    from .emulator import client_config

    return client_config(asynchronous=asynchronous)
