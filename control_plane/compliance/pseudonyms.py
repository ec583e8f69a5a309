"""Stable keyed-hash pseudonyms (``erased-<hmac>``) for what erasure replaces.

The key is ``compliance_pseudonym_secret`` or, unset, one generated once into the data directory
(mode 600), like the join-token secret: nothing is hard-coded, and the same value always maps to the
same pseudonym, so an erasure run twice changes nothing and aggregates keep their distinct counts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from settings import ControlPlaneSettings, SettingsError

SECRET_FILE = "compliance-pseudonym.secret"
MIN_SECRET_BYTES = 32
PREFIX = "erased-"
ERASED_EMAIL_DOMAIN = "erased.invalid"


def pseudonym_secret(settings: ControlPlaneSettings) -> bytes:
    """The configured key, else the one kept in ``data_dir`` (created on first use)."""
    if settings.compliance_pseudonym_secret is not None:
        secret = settings.compliance_pseudonym_secret.get_secret_value().encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise SettingsError(f"compliance_pseudonym_secret must be at least {MIN_SECRET_BYTES} bytes")
        return secret
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another thread made it first
            return path.read_text().strip().encode()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class Pseudonymizer:
    """Maps a value to its pseudonym with one key."""

    key: bytes

    def of(self, value: str) -> str:
        digest = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()
        return PREFIX + digest[:20]

    def email(self, value: str) -> str:
        """A pseudonym that is still shaped like an address (the column is unique and read as one)."""
        return f"{self.of(value.lower())}@{ERASED_EMAIL_DOMAIN}"


def is_pseudonym(value: str) -> bool:
    return value.startswith(PREFIX)
