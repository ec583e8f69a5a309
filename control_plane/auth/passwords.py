"""Password hashing with Argon2id (RFC 9106's second recommendation: 64 MiB, 3 passes)."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
_dummy_hash: str | None = None


def use_parameters(parameters: Parameters) -> None:
    """Change the cost of new hashes (tests use ``argon2.profiles.CHEAPEST``); old hashes still verify."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(parameters)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; an unknown account (no hash) costs as long as a known one."""
    global _dummy_hash
    if password_hash is None:
        _dummy_hash = _dummy_hash or _hasher.hash("not a password anyone has")
    try:
        return _hasher.verify(password_hash or _dummy_hash or "", password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
