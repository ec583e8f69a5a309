"""The secret store the settings name: the local keystore (embedded default) or Vault.

Kept apart from :mod:`control_plane.secrets.store`, the interface both backends import,
so that the interface does not import its implementations.
"""

from __future__ import annotations

from sqlalchemy import Engine

from control_plane.secrets.local import LocalKeystore
from control_plane.secrets.store import SecretStore
from control_plane.secrets.vault import VaultSecretStore
from settings import ControlPlaneSettings


def build_store(settings: ControlPlaneSettings, engine: Engine) -> SecretStore:
    """The backend ``secret_backend`` names (built without contacting anything: readiness does that)."""
    if settings.secret_backend == "vault":
        return VaultSecretStore(settings)
    return LocalKeystore(settings, engine)
