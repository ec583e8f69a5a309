"""Errors as HTTP answers, in one place: the domain error tree and database errors.

A :class:`~control_plane.domain_errors.ControlPlaneError` becomes its class's status (see
:data:`STATUS`) with the body ``{"status_code", "detail"}`` (and ``extra`` when the error has
some) and its headers (``Retry-After``); the secret store's errors answer as the domain errors
they stand for (:func:`~control_plane.secrets.errors.as_domain_error`); a conflict in the database is a 409, a value the
database refuses a 400, the database unreachable a 503.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap, Scope
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from control_plane.context import AnyRequest
from control_plane.domain_errors import (
    ClientError,
    Conflict,
    ControlPlaneError,
    Forbidden,
    Gone,
    Internal,
    InvalidInput,
    NotFound,
    PaymentRequired,
    TooManyRequests,
    Unauthenticated,
    Unprocessable,
    UpstreamError,
    UpstreamFailed,
    UpstreamUnavailable,
)
from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreError,
    SecretStoreUnavailableError,
    as_domain_error,
)

log = structlog.get_logger(__name__)

STATUS: dict[type[ControlPlaneError], int] = {
    ControlPlaneError: 500,
    Internal: 500,
    ClientError: 400,
    UpstreamError: 502,
    InvalidInput: 400,
    Unprocessable: 422,
    Unauthenticated: 401,
    PaymentRequired: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooManyRequests: 429,
    UpstreamFailed: 502,
    UpstreamUnavailable: 503,
}
"""The HTTP status of each class of the tree; a subclass answers as its nearest listed ancestor."""


def status_of(error_class: type[ControlPlaneError]) -> int:
    """The HTTP status an error of ``error_class`` answers with."""
    return next(STATUS[cls] for cls in error_class.__mro__ if cls in STATUS)


def _domain(_: AnyRequest, error: ControlPlaneError) -> Response[dict[str, object]]:
    if status_of(type(error)) >= 500:
        log.error("error answered with a 5xx", error_class=type(error).__name__, detail=error.message[:200])
    return _answer(error)


def _secret_store(_: AnyRequest, error: SecretStoreError) -> Response[dict[str, object]]:
    if isinstance(error, SecretStoreUnavailableError):
        log.error("secret store unavailable", error=str(error))
    elif isinstance(error, SecretIntegrityError):
        log.error("secret failed its integrity check", error=str(error))
    elif not isinstance(error, SecretNotFoundError | SecretRequestRefusedError):
        log.error("secret store error", error=str(error))
    return _answer(as_domain_error(error))


def _answer(error: ControlPlaneError) -> Response[dict[str, object]]:
    status = status_of(type(error))
    body: dict[str, object] = {"status_code": status, "detail": error.message}
    if error.extra:
        body["extra"] = error.extra
    return Response(body, status_code=status, headers=error.headers or None)


def _invalid_fields(_: AnyRequest, error: ValidationException) -> Response[dict[str, object]]:
    """Litestar's answer for a body or parameter that does not validate, each field's message in plain words."""
    body: dict[str, object] = {"status_code": 400, "detail": error.detail}
    if isinstance(error.extra, list):
        body["extra"] = [_plain_field_error(item) for item in error.extra]
    elif error.extra:
        body["extra"] = error.extra
    return Response(body, status_code=400)


def _plain_field_error(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("message"), str):
        return {**item, "message": plain_message(item["message"])}
    return item


def plain_message(message: str) -> str:
    """A field validator's message without pydantic's "Value error, " in front."""
    return message.removeprefix("Value error, ")


def _conflict(_: AnyRequest, error: IntegrityError) -> Response[dict[str, object]]:
    return _problem(409, "this conflicts with an existing record (a name or key already in use?)")


def _bad_value(_: AnyRequest, error: DataError) -> Response[dict[str, object]]:
    return _problem(400, f"the database refused a value: {str(error.orig).splitlines()[0][:200]}")


def _unavailable(_: AnyRequest, error: OperationalError) -> Response[dict[str, object]]:
    log.error("database unavailable", error=str(error.orig).splitlines()[0][:200])
    return _problem(503, "the database is unavailable; try again shortly")


def _problem(status: int, detail: str) -> Response[dict[str, object]]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


async def log_unexpected(error: Exception, scope: Scope) -> None:
    """Every error that became a 500, with its traceback (client errors are the client's business; the
    errors :data:`EXCEPTION_HANDLERS` answers are expected, and those handlers log what needs it)."""
    if not isinstance(error, (HTTPException, *_ANSWERED)):
        log.error("unexpected error", path=scope.get("path"), exc_info=error)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ControlPlaneError: _domain,
    SecretStoreError: _secret_store,
    ValidationException: _invalid_fields,
    IntegrityError: _conflict,
    DataError: _bad_value,
    OperationalError: _unavailable,
}
_ANSWERED = tuple(kind for kind in EXCEPTION_HANDLERS if isinstance(kind, type))
