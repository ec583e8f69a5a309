"""The join-token secret: configured, or generated once and kept in the data directory.

The engine, the control plane and ``auralink token`` all read it here, so that every
process run with the same settings signs and verifies with the same secret.
"""

from __future__ import annotations

import logging
import os
import secrets

from settings.base import CommonSettings, SettingsError

log = logging.getLogger("auralink.calls")

SECRET_FILE = "join-token.secret"
MIN_SECRET_BYTES = 32
"""HS256 keys shorter than this are refused (RFC 7518 §3.2 asks for at least the hash's size)."""


def join_token_secret(settings: CommonSettings) -> str:
    """The configured secret, else the one kept in the data directory (created on first use, mode 600)."""
    if settings.join_token_secret is not None:
        secret = settings.join_token_secret.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"join_token_secret must be at least {MIN_SECRET_BYTES} bytes")
        return secret
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    log.info("generated a join-token secret in %s", path)
    return path.read_text().strip()
