"""The pieces every admin page uses: rendering in the frame, redirects, security headers, HTML errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import structlog
from litestar import Response
from litestar.config.csrf import CSRFConfig
from litestar.di import NamedDependency, Provide
from litestar.exceptions import (
    MethodNotAllowedException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.responses import create_exception_response
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from control_plane.analytics.controller import period as choose_period
from control_plane.analytics.schemas import Period
from control_plane.context import AnyRequest, principal_of
from control_plane.domain_errors import ControlPlaneError, Forbidden, InvalidInput, Unauthenticated
from control_plane.errors import status_of
from control_plane.principals import Principal
from control_plane.secrets.errors import SecretStoreError, as_domain_error
from control_plane.state import app_state
from settings import ControlPlaneSettings, join_token_secret
from ui.admin.forms import FormState
from ui.admin.shell import Shell, shell_of

log = structlog.get_logger(__name__)

Preset = Literal["1", "7", "30", "90", "custom"]
"""The period pickers' choices: the last N days, or from one day to another."""
SIGN_IN = "/ui/sign-in"
NEW_ORGANIZATION = "/ui/organisations/new"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class PeriodChoice:
    """What a period picker chose (shown again in the picker) and the period it means."""

    days: str
    since: str
    until: str
    period: Period


DayField = Annotated[str, QueryParameter(max_length=40, description="a day, YYYY-MM-DD (the picker's From or To)")]


def provide_period(
    days: Annotated[Preset, QueryParameter()] = "30", since: DayField = "", until: DayField = ""
) -> PeriodChoice:
    """The ``chosen`` dependency of the pages with a period picker."""
    return PeriodChoice(days, since, until, choose_period(*period_of(days, since, until)))


PERIOD_PICKER = {"chosen": Provide(provide_period, sync_to_thread=False)}
"""The dependencies of a controller whose pages have a period picker."""
Chosen = NamedDependency[PeriodChoice]


def period_of(days: str, since: str, until: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period the picker chose: the last N days up to now, or whole days from ``since`` to ``until``."""
    if days != "custom":
        now = dt.datetime.now(dt.UTC)
        return now - dt.timedelta(days=int(days)), now
    return days_between(since, until)


def days_between(since: str, until: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A filter form's two date fields (``YYYY-MM-DD``, either empty) as the period from the start of ``since`` to
    the end of ``until``, UTC."""
    first, last = _day(since, "From"), _day(until, "To")
    start = dt.datetime.combine(first, dt.time(), dt.UTC) if first else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC) if last else None
    if start and end and start >= end:
        raise InvalidInput("the period must end after it starts")
    return start, end


def _day(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2026-01-31, not {value[:40]!r}") from None


PAGE_SIZE = 50
"""Rows a list page shows."""
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]
Row = TypeVar("Row")


def page_window(page_number: int) -> tuple[int, int]:
    """``(limit, offset)`` for one page, reading one row past it so the page knows whether another follows."""
    return PAGE_SIZE + 1, (page_number - 1) * PAGE_SIZE


def paged(request: AnyRequest, rows: Sequence[Row], page_number: int) -> tuple[Sequence[Row], dict[str, Any]]:
    """The page's rows and what its pager needs: whether a next page exists and the filters to keep."""
    query = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return rows[:PAGE_SIZE], {"has_next": len(rows) > PAGE_SIZE, "page_number": page_number, "query": query}


def csrf_config(settings: ControlPlaneSettings) -> CSRFConfig:
    """Double-submit CSRF tokens (cookie + hidden field or ``X-CSRFToken``), signed with a key derived from the
    deployment's join-token secret so that every worker and restart accepts the same tokens."""
    key = hmac.new(join_token_secret(settings).encode(), b"auralink admin ui csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(secret=key, cookie_name="auralink_csrf", cookie_samesite="strict", cookie_httponly=False)


def page(
    request: AnyRequest,
    db: Session,
    template: str,
    *,
    form: FormState | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """``template`` inside the frame of the signed-in user."""
    shell = shell_of(db, principal_of(request))
    return Template(
        template,
        context={
            "shell": shell,
            "form": form or FormState(),
            "blank": FormState(),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def bare_page(template: str, *, form: FormState | None = None, status_code: int = 200, **context: Any) -> Template:
    """``template`` without the signed-in frame (sign-in, sign-up, errors before a session exists)."""
    return Template(template, context={"shell": None, "form": form or FormState(), **context}, status_code=status_code)


def refusal_status(error: Exception) -> int:
    """The status a page shown again after ``error`` answers with: the domain error's own, 400 for a form."""
    return status_of(type(error)) if isinstance(error, ControlPlaneError) else 400


def back_to(path: str) -> Redirect:
    """Post/redirect/get: after a change, the page that shows it (303, so a reload never repeats the change)."""
    return Redirect(path, status_code=303)


def _sign_in_first(request: AnyRequest, _: Exception) -> Response[Any]:
    target = request.url.path if request.method == "GET" else "/"
    return Redirect(f"{SIGN_IN}?next={target}" if target not in ("/", SIGN_IN) else SIGN_IN, status_code=303)


def _refused(request: AnyRequest, error: ControlPlaneError) -> Response[Any]:
    if isinstance(error, Unauthenticated):
        return _sign_in_first(request, error)
    user = request.scope.get("user")
    if isinstance(error, Forbidden) and isinstance(user, Principal) and user.organization_id is None:
        return Redirect(NEW_ORGANIZATION, status_code=303)
    status = status_of(type(error))
    if status >= 500:
        log.error("admin page failed on a dependency", error_class=type(error).__name__, detail=error.message[:200])
    return _error_page(request, status, error.message, headers=error.headers)


def _secret_store(request: AnyRequest, error: SecretStoreError) -> Response[Any]:
    return _refused(request, as_domain_error(error))


def _database_down(request: AnyRequest, error: OperationalError) -> Response[Any]:
    log.error("database unavailable", error=str(error.orig).splitlines()[0][:200])
    return _error_page(request, 503, "The database is unavailable; try again in a moment.")


def _csrf_failed(request: AnyRequest, _: PermissionDeniedException) -> Response[Any]:
    return _error_page(request, 403, "This form had expired or came from another site: reload the page and try again.")


def _bad_request(request: AnyRequest, error: ValidationException) -> Response[Any]:
    return _error_page(request, 400, f"That address has a value the server does not accept: {error.detail}")


def _error_page(request: AnyRequest, status: int, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    if request.headers.get("hx-request"):
        return Template("partials/banner.html", context={"message": message}, status_code=status, headers=headers)
    return Template(
        "error.html",
        context={
            "shell": _shell_if_signed_in(request, status),
            "status": status,
            "message": message,
            "form": FormState(),
            "path": request.url.path,
        },
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _shell_if_signed_in(request: AnyRequest, status: int) -> Shell | None:
    """The frame, so that a refusal keeps the navigation; none when a dependency is failing (the database may be
    what failed) or nobody is signed in."""
    user = request.scope.get("user")
    if status >= 500 or not isinstance(user, Principal) or user.user_id is None:
        return None
    try:
        with app_state(request.app.state).session() as db:
            return shell_of(db, user)
    except (SQLAlchemyError, ControlPlaneError):
        return None


def form_only(request: AnyRequest, error: MethodNotAllowedException) -> Response[Any]:
    """A page's form address opened in the browser (a bookmark, a reload after a refused form): a page that says
    so, where the API answers its JSON 405. Registered on the app: Litestar routes before any router's handlers."""
    if not request.url.path.startswith("/ui/"):
        return create_exception_response(request, error)
    allowed = {k.lower(): v for k, v in (error.headers or {}).items()}.get("allow", "")
    message = "This address only takes a form sent from its page; open the page and use the form there."
    return _error_page(request, 405, message, headers={"Allow": allowed} if allowed else None)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ControlPlaneError: _refused,
    SecretStoreError: _secret_store,
    OperationalError: _database_down,
    NotAuthorizedException: _sign_in_first,
    PermissionDeniedException: _csrf_failed,
    ValidationException: _bad_request,
}
