"""AES-256-GCM envelope encryption, pure functions over bytes (no I/O, no state).

A secret is encrypted with a fresh data key; the data key is wrapped by a key-encryption key (KEK), and each
KEK is wrapped by the master key. Every ciphertext is ``nonce (12 bytes) || ciphertext || tag (16 bytes)``, and
each carries associated data naming what it is, so a ciphertext moved to another row or scope fails to open.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from control_plane.secrets.errors import SecretIntegrityError

KEY_BYTES = 32
NONCE_BYTES = 12
WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + 16
FIELD_PREFIX = "alk"
_FIELD = re.compile(rf"^{FIELD_PREFIX}:v(\d{{1,9}}):([A-Za-z0-9_-]+={{0,2}})$")


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, associated: str) -> bytes:
    """``plaintext`` encrypted and authenticated under ``key``, bound to ``associated``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated.encode())


def open_sealed(key: bytes, sealed: bytes, associated: str, what: str) -> bytes:
    """The plaintext of :func:`seal`'s output; ``SecretIntegrityError`` naming ``what`` if it fails to verify."""
    if len(sealed) < NONCE_BYTES + 16:
        raise SecretIntegrityError(f"{what} is truncated")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated.encode())
    except InvalidTag:
        raise SecretIntegrityError(
            f"{what} failed its integrity check (changed, moved, or encrypted under another key)"
        ) from None


def field_token(key_version: int, wrapped_data_key: bytes, sealed: bytes) -> str:
    """A field ciphertext as text: ``alk:v<key version>:<base64url(wrapped data key || sealed value)>``."""
    body = base64.urlsafe_b64encode(wrapped_data_key + sealed).decode()
    return f"{FIELD_PREFIX}:v{key_version}:{body}"


def parse_field_token(token: str) -> tuple[int, bytes, bytes]:
    """The key version, wrapped data key and sealed value of a :func:`field_token`."""
    match = _FIELD.match(token)
    if match is None:
        raise SecretIntegrityError(f"not a local-keystore field ciphertext (expected '{FIELD_PREFIX}:v<n>:…')")
    try:
        raw = base64.urlsafe_b64decode(match.group(2))
    except (binascii.Error, ValueError):
        raise SecretIntegrityError("the field ciphertext is not valid base64") from None
    if len(raw) < WRAPPED_KEY_BYTES + NONCE_BYTES + 16:
        raise SecretIntegrityError("the field ciphertext is truncated")
    return int(match.group(1)), raw[:WRAPPED_KEY_BYTES], raw[WRAPPED_KEY_BYTES:]


def decode_master_key(text: str, source: str) -> bytes:
    """The 32-byte key in base64 ``text``; a message naming ``source`` when it is not one."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{source} is not base64 (expected the base64 of 32 random bytes)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{source} must be the base64 of {KEY_BYTES} bytes, not of {len(key)}")
    return key
