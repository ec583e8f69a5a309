"""One configuration for the ``auralink`` shell: defaults, then a TOML file, then ``AURALINK_*`` variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from settings.aic import AicSettings
from settings.base import SettingsError
from settings.control_plane import ControlPlaneSettings
from settings.engine import EngineSettings
from settings.speech import SpeechSettings

CONFIG_ENV = "AURALINK_CONFIG"


class Settings(EngineSettings, ControlPlaneSettings, AicSettings, SpeechSettings):
    """Every service's settings in one object (see docs/configuration.md); each service reads its own part."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config_file`` (or ``$AURALINK_CONFIG``), the environment and overrides."""
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    from_file = _read_config_file(path) if path else {}
    try:
        return Settings(**{**from_file, **{k: v for k, v in overrides.items() if v is not None}})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()
        )
        source = f"{path} or AURALINK_* variables" if path else "AURALINK_* variables"
        raise SettingsError(f"invalid configuration ({source}): {problems}") from None


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: invalid TOML: {error}") from None
    section = data.get("auralink", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [auralink] must be a table")
    return section
