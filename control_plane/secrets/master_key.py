"""The local keystore's master key: ``secret_master_key`` (the environment), or a key file generated once."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import structlog

from control_plane.secrets.envelope import decode_master_key, new_key
from control_plane.secrets.errors import SecretStoreUnavailableError
from settings import ControlPlaneSettings

log = structlog.get_logger(__name__)

KEY_FILE = Path("keystore") / "master.key"


def key_file(settings: ControlPlaneSettings) -> Path:
    """Where the master key is kept when the environment does not give it."""
    return settings.secret_master_key_file or settings.data_dir / KEY_FILE


def master_key_source(settings: ControlPlaneSettings) -> str:
    """Where the key comes from, for messages."""
    if settings.secret_master_key is not None:
        return "AURALINK_SECRET_MASTER_KEY"
    return f"the key file {key_file(settings)}"


def load_master_key(settings: ControlPlaneSettings) -> bytes:
    """The configured key, else the key file's (created with mode 600 on first use when it is the default).

    Raises:
        SecretStoreUnavailableError: the key is malformed, or an explicitly named key file is missing.
    """
    try:
        if settings.secret_master_key is not None:
            return decode_master_key(settings.secret_master_key.get_secret_value(), "AURALINK_SECRET_MASTER_KEY")
        path = key_file(settings)
        if not path.exists():
            if settings.secret_master_key_file is not None:
                raise SecretStoreUnavailableError(f"the master key file {path} (secret_master_key_file) does not exist")
            _generate(path)
        _warn_if_readable_by_others(path)
        return decode_master_key(path.read_text(), f"the master key file {path}")
    except ValueError as error:
        raise SecretStoreUnavailableError(f"the local keystore's master key is unusable: {error}") from None
    except OSError as error:
        raise SecretStoreUnavailableError(f"cannot read the local keystore's master key: {error}") from None


def load_previous_master_keys(settings: ControlPlaneSettings) -> list[bytes]:
    """The keys being rotated out (or in): they may still open key-encryption keys, but wrap nothing new."""
    try:
        return [
            decode_master_key(key.get_secret_value(), f"AURALINK_SECRET_PREVIOUS_MASTER_KEYS[{i}]")
            for i, key in enumerate(settings.secret_previous_master_keys)
        ]
    except ValueError as error:
        raise SecretStoreUnavailableError(f"the local keystore's master key is unusable: {error}") from None


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(new_key()).decode() + "\n")
    log.info("generated the local keystore's master key", path=str(path))


def _warn_if_readable_by_others(path: Path) -> None:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the master key file is readable by other users; chmod 600 it", path=str(path))
