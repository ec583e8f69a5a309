"""Random secrets handed to people once, and the hashes kept of them."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256: enough for high-entropy random tokens (passwords get Argon2 instead)."""
    return hashlib.sha256(secret.encode()).hexdigest()
