"""Export files encrypted at rest: each under a fresh AES-256-GCM key that the secret store wraps.

A file on disk is useless without the store (the local keystore's master key, or Vault's transit key), so a
copied data directory or a backup does not leak what an export holds. Downloads are decrypted in memory.
"""

from __future__ import annotations

import base64

from control_plane.secrets import envelope
from control_plane.secrets.store import SecretStore

EXPORTS_SCOPE = "compliance-exports"
"""The secret-store scope whose key wraps the exports' data keys (one transit key in Vault)."""


def seal(store: SecretStore, request_id: int, content: bytes) -> tuple[bytes, str]:
    """``content`` encrypted for export ``request_id``, and its data key as wrapped by ``store``."""
    data_key = envelope.new_key()
    wrapped_key = store.encrypt_field(EXPORTS_SCOPE, base64.b64encode(data_key).decode())
    return envelope.seal(data_key, content, _associated(request_id)), wrapped_key


def unseal(store: SecretStore, request_id: int, sealed: bytes, wrapped_key: str) -> bytes:
    """The content :func:`seal` encrypted; a ``SecretStoreError`` if the store cannot unwrap its key."""
    data_key = base64.b64decode(store.decrypt_field(EXPORTS_SCOPE, wrapped_key))
    return envelope.open_sealed(data_key, sealed, _associated(request_id), f"the file of export {request_id}")


def _associated(request_id: int) -> str:
    """Binds a file to its request: a file swapped for another export's fails to open."""
    return f"compliance-export:{request_id}"
