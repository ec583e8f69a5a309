"""The one interface both secret backends implement (:mod:`control_plane.secrets.factory` picks one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class KeyStatus:
    """The key versions of one scope: which one new writes use, which still decrypt, what uses each."""

    scope: str
    current_version: int | None
    versions: list[int]
    min_decryption_version: int
    secrets_by_version: dict[int, int] = field(default_factory=dict)
    """Stored secret versions wrapped by each key version (the local keystore only; Vault's KV is its own)."""
    wrapped_by_previous_master_key: int = 0
    """Key versions still wrapped by a master key being rotated out (the local keystore only): 0 = done."""


class SecretStore(Protocol):
    """Versioned secrets and field encryption, partitioned by scope (one scope per organisation).

    Every method raises :class:`~control_plane.secrets.errors.SecretStoreUnavailableError` when the store
    cannot be reached or opened, and never falls back to anything else.
    """

    backend: str
    """``local`` or ``vault``."""

    def describe(self) -> str:
        """Where the store is, for messages (never a secret)."""
        ...

    def check(self) -> None:
        """Readiness: the store opens, answers and accepts our credentials, or this raises."""
        ...

    def put(self, scope: str, path: str, value: str) -> int:
        """Store a new version of the secret at ``path``; returns its version number (1, 2, …)."""
        ...

    def get(self, scope: str, path: str, version: int | None = None) -> str:
        """The secret at ``path`` (its newest version unless ``version``); ``SecretNotFoundError`` if none."""
        ...

    def destroy(self, scope: str, path: str) -> None:
        """Destroy every version of the secret at ``path`` (no error if there is none)."""
        ...

    def encrypt_field(self, scope: str, plaintext: str) -> str:
        """A ciphertext of ``plaintext`` for a database column; it names the key version that made it."""
        ...

    def decrypt_field(self, scope: str, ciphertext: str) -> str:
        """The plaintext of :meth:`encrypt_field`'s ciphertext (made in the same scope)."""
        ...

    def rewrap_field(self, scope: str, ciphertext: str) -> str:
        """The same plaintext re-encrypted under the scope's current key version, without revealing it."""
        ...

    def rotate(self, scope: str) -> int:
        """Make a new key version current for ``scope``'s new writes; older versions still decrypt."""
        ...

    def rewrap(self, scope: str) -> int:
        """Re-wrap every stored secret of ``scope`` to its current key version; returns how many moved."""
        ...

    def retire(self, scope: str, version: int) -> None:
        """Stop key ``version`` (and older) decrypting; refused while it is current or still in use."""
        ...

    def key_status(self, scope: str) -> KeyStatus:
        """The key versions of ``scope``."""
        ...

    def scopes(self) -> list[str]:
        """Every scope that holds keys (for the rewrap job)."""
        ...


def organization_scope(organization_id: int) -> str:
    """The scope of one organisation's secrets: its data keys and key versions are its own."""
    return f"org-{organization_id}"
