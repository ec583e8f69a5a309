"""What every service's settings share: where data lives, logging, worker threads, Redis."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """The configuration cannot be used; the message says which file or variable and why."""


def default_data_dir() -> Path:
    """The user's data directory for AuraLink (``~/.local/share/auralink`` on Linux).

    One place per user, whatever the working directory, so that ``auralink token`` and
    ``auralink serve engine`` run from different directories sign with the same secret.
    """
    return Path(platformdirs.user_data_dir("auralink", appauthor=False))


def package_version() -> str:
    """AuraLink's installed version (``0.0.0+source`` in a source tree that is not installed)."""
    try:
        return version("auralink")
    except PackageNotFoundError:
        return "0.0.0+source"


class CommonSettings(BaseSettings):
    """Settings every AuraLink service reads."""

    model_config = SettingsConfigDict(env_prefix="AURALINK_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="where databases, keystores and caches live; unset = the user's data directory",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="least severe log level shown")
    log_format: Literal["console", "json"] = Field("console", description="human-readable or JSON log lines")
    worker_threads: int = Field(0, ge=0, le=1024, description="threads for CPU/GPU stage work; 0 = one per core")
    join_token_secret: SecretStr | None = Field(
        None, description="signs join tokens; unset = generated once, kept in data_dir/join-token.secret"
    )
    redis_url: str | None = Field(None, description="Redis for realtime metrics and rate limits; unset = in-process")
    redis_key_prefix: str = Field("auralink:", min_length=1, description="prefix of every Redis key written")
