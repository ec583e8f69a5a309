"""The secret store's errors: one typed family, mapped to HTTP by :mod:`control_plane.secrets.plugin`."""

from __future__ import annotations


class SecretStoreError(Exception):
    """The secret store cannot do what was asked; the message says why (and never holds a secret)."""


class SecretStoreUnavailableError(SecretStoreError):
    """The store cannot be reached or opened right now (Vault sealed, unreachable or refusing the token,
    the local master key missing or wrong). The API answers 503 with ``Retry-After``."""

    def __init__(self, message: str, *, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SecretNotFoundError(SecretStoreError):
    """No such secret (or version) in the store."""


class SecretIntegrityError(SecretStoreError):
    """A stored ciphertext failed its authentication check: it was changed, or belongs elsewhere.
    Nothing is returned in its place."""


class SecretRequestRefusedError(SecretStoreError):
    """The request is not possible in the store's present state (e.g. retiring the current key version)."""
