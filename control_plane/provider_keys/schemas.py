from __future__ import annotations

import datetime as dt
import enum

from pydantic import SecretStr, field_validator

from control_plane.schemas import Input, Name, Output

MIN_KEY_LENGTH = 16
MAX_KEY_LENGTH = 4096


class Provider(enum.StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    AZURE = "azure"
    DEEPGRAM = "deepgram"
    ASSEMBLYAI = "assemblyai"
    ELEVENLABS = "elevenlabs"
    GOOGLE = "google"
    AWS = "aws"
    CUSTOM = "custom"


class _HasKey(Input):
    key: SecretStr
    """The provider's API key; stored only in the secret store, never shown again whole."""

    @field_validator("key")
    @classmethod
    def _plausible_key(cls, key: SecretStr) -> SecretStr:
        # the messages never quote the key: validation errors are returned and may be logged
        value = key.get_secret_value()
        if not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH:
            raise ValueError(f"a provider key has {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters, not {len(value)}")
        if any(char.isspace() or not char.isprintable() for char in value):
            raise ValueError("a provider key has no spaces, line breaks or control characters (pasted with them?)")
        return key


class ProviderKeyCreate(_HasKey):
    provider: Provider
    name: Name


class ProviderKeyRotate(_HasKey):
    pass


class ProviderKeyRead(Output):
    id: int
    provider: str
    name: str
    masked: str
    """The only form of the key ever shown, e.g. ``sk-…a1b2``."""
    backend: str
    version: int
    created_by: int | None
    created_at: dt.datetime
    rotated_at: dt.datetime | None
    revoked_at: dt.datetime | None
