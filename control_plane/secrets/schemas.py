from __future__ import annotations

from control_plane.schemas import Output


class KeyVersions(Output):
    """The organisation's key versions in the secret store."""

    backend: str
    scope: str
    current_version: int | None
    versions: list[int]
    """Versions that still decrypt, oldest first."""
    min_decryption_version: int
    secrets_by_version: dict[int, int]
    """How many stored secret versions each key version wraps (the local keystore)."""
    wrapped_by_previous_master_key: int
    """Key versions a master key being rotated out still wraps (the local keystore); 0 = safe to drop it."""


class Rotated(Output):
    backend: str
    scope: str
    current_version: int


class Rewrapped(Output):
    backend: str
    scope: str
    current_version: int | None
    moved: int
    """Stored secret versions whose data keys moved to the current key version."""
