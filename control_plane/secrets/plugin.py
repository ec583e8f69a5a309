"""The secret store's errors as HTTP answers, and the periodic rewrap job."""

from __future__ import annotations

import structlog
from litestar import Response
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.types import ExceptionHandlersMap

from control_plane.context import AnyRequest
from control_plane.plugins import PeriodicJobPlugin
from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreError,
    SecretStoreUnavailableError,
)
from control_plane.state import AppState
from settings import ControlPlaneSettings

log = structlog.get_logger(__name__)


def _unavailable(_: AnyRequest, error: SecretStoreUnavailableError) -> Response[dict[str, object]]:
    log.error("secret store unavailable", error=str(error))
    detail = f"{error}; nothing was stored or returned in its place, try again in {error.retry_after_s} s"
    return Response(
        {"status_code": 503, "detail": detail},
        status_code=503,
        headers={"Retry-After": str(error.retry_after_s)},
    )


def _not_found(_: AnyRequest, error: SecretNotFoundError) -> Response[dict[str, object]]:
    return Response({"status_code": 404, "detail": str(error)}, status_code=404)


def _refused(_: AnyRequest, error: SecretRequestRefusedError) -> Response[dict[str, object]]:
    return Response({"status_code": 409, "detail": str(error)}, status_code=409)


def _integrity(_: AnyRequest, error: SecretIntegrityError) -> Response[dict[str, object]]:
    log.error("secret failed its integrity check", error=str(error))
    return Response({"status_code": 500, "detail": f"{error}; nothing was returned"}, status_code=500)


def _store_error(_: AnyRequest, error: SecretStoreError) -> Response[dict[str, object]]:
    log.error("secret store error", error=str(error))
    return Response({"status_code": 502, "detail": f"the secret store failed: {error}"}, status_code=502)


SECRET_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SecretStoreUnavailableError: _unavailable,
    SecretNotFoundError: _not_found,
    SecretRequestRefusedError: _refused,
    SecretIntegrityError: _integrity,
    SecretStoreError: _store_error,
}


class SecretsPlugin(InitPluginProtocol):
    """Maps :class:`SecretStoreError` and its kinds to clear HTTP errors (503 + Retry-After when unavailable)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.exception_handlers.update(SECRET_EXCEPTION_HANDLERS)
        return app_config


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
