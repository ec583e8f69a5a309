"""Database errors as client errors: a conflict is a 409, a value the database refuses a 400."""

from __future__ import annotations

import structlog
from litestar import Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap, Scope
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from control_plane.context import AnyRequest

log = structlog.get_logger(__name__)


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
    """Every error that became a 500, with its traceback (client errors are the client's business)."""
    if not isinstance(error, HTTPException):
        log.error("unexpected error", path=scope.get("path"), exc_info=error)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    IntegrityError: _conflict,
    DataError: _bad_value,
    OperationalError: _unavailable,
}
