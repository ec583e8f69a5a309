"""The periodic rewrap job (the secret store's errors are answered by :mod:`control_plane.errors`)."""

from __future__ import annotations

import structlog

from control_plane.plugins import PeriodicJobPlugin
from control_plane.secrets.errors import SecretStoreError
from control_plane.state import AppState
from settings import ControlPlaneSettings

log = structlog.get_logger(__name__)


def rewrap_job(settings: ControlPlaneSettings) -> PeriodicJobPlugin:
    """Every ``secret_rewrap_interval_s``: move every scope's stored secrets to its current key version."""
    return PeriodicJobPlugin("secrets_rewrap", settings.secret_rewrap_interval_s, rewrap_all)


def rewrap_all(state: AppState) -> int:
    """Re-wrap every scope; a store that cannot be reached is logged and retried at the next run."""
    moved = 0
    try:
        for scope in state.secrets.scopes():
            moved += state.secrets.rewrap(scope)
    except SecretStoreError as error:
        log.error("secret rewrap failed", error=str(error))
    return moved
