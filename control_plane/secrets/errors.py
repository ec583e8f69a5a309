"""The secret store's errors: one typed family, answered as the domain error :func:`as_domain_error` gives."""

from __future__ import annotations

from control_plane.domain_errors import (
    Conflict,
    ControlPlaneError,
    Internal,
    NotFound,
    UpstreamFailed,
    UpstreamUnavailable,
)


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


def as_domain_error(error: SecretStoreError) -> ControlPlaneError:
    """What the API answers for ``error``: 503 + ``Retry-After`` when unavailable, 404, 409, 500 or 502."""
    if isinstance(error, SecretStoreUnavailableError):
        return UpstreamUnavailable(
            f"{error}; nothing was stored or returned in its place, try again in {error.retry_after_s} s",
            retry_after_s=error.retry_after_s,
        )
    if isinstance(error, SecretNotFoundError):
        return NotFound(str(error))
    if isinstance(error, SecretRequestRefusedError):
        return Conflict(str(error))
    if isinstance(error, SecretIntegrityError):
        return Internal(f"{error}; nothing was returned")
    return UpstreamFailed(f"the secret store failed: {error}")
