"""Signing in and out and choosing the organisation to act in, for the API and the admin UI alike."""

from __future__ import annotations

import structlog
from sqlmodel import Session, col, delete, select

from control_plane.audit.service import record
from control_plane.auth.models import UserSession
from control_plane.auth.passwords import verify_password
from control_plane.auth.schemas import Login, LoginResult
from control_plane.auth.service import first_organization, open_session, roles_of
from control_plane.domain_errors import Forbidden, TooManyRequests, Unauthenticated
from control_plane.principals import AuditContext, Principal
from control_plane.state import AppState
from control_plane.tokens import digest
from control_plane.users.models import User
from control_plane.users.schemas import UserRead

log = structlog.get_logger(__name__)


def sign_in(db: Session, state: AppState, data: Login, context: AuditContext) -> tuple[str, LoginResult]:
    """Check the password (within the login budget) and open a session; returns its cookie value and who it is."""
    _check_login_budget(state, data.email, context.ip)
    user = db.exec(select(User).where(User.email == data.email)).first()
    if not verify_password(user.password_hash if user else None, data.password) or user is None:
        log.warning("login failed", email=data.email, ip=context.ip)
        raise Unauthenticated("wrong e-mail or password")
    if not user.is_active:
        raise Unauthenticated("this account is deactivated")
    assert user.id is not None
    organization_id = data.organization_id or first_organization(db, user.id)
    if data.organization_id is not None and data.organization_id not in roles_of(db, user.id):
        raise Forbidden(f"you are not a member of organisation {data.organization_id}")
    token, _ = open_session(db, user, organization_id, state.settings.session_ttl_s, context.ip, context.user_agent)
    record(db, context, organization_id, "auth.login", resource_type="user", resource_id=str(user.id))
    db.commit()
    return token, LoginResult(user=UserRead.model_validate(user), organization_id=organization_id)


def sign_out(db: Session, token: str | None, principal: Principal, context: AuditContext) -> None:
    """End the session ``token`` names (nothing to do without one)."""
    if not token:
        return
    db.exec(delete(UserSession).where(col(UserSession.token_hash) == digest(token)))
    record(
        db, context, principal.organization_id, "auth.logout", resource_type="user", resource_id=str(principal.user_id)
    )
    db.commit()


def switch_organization(db: Session, token: str | None, principal: Principal, organization_id: int) -> LoginResult:
    """Make the session act in ``organization_id``, one of the user's organisations."""
    if organization_id not in principal.roles or not token:
        raise Forbidden(f"you are not a member of organisation {organization_id}")
    row = db.exec(select(UserSession).where(UserSession.token_hash == digest(token))).one()
    row.organization_id = organization_id
    db.add(row)
    db.commit()
    user = db.get(User, principal.user_id)
    return LoginResult(user=UserRead.model_validate(user), organization_id=organization_id)


def _check_login_budget(state: AppState, email: str, ip: str) -> None:
    limit = state.settings.login_attempts_per_minute
    # one address may serve many people (an office), so it gets a larger budget than one e-mail;
    # the e-mail is hashed so that Redis never holds it (nothing there for an erasure to miss)
    waits = [
        state.limiter.retry_after(f"login:{digest(email)[:32]}", limit),
        state.limiter.retry_after(f"login-ip:{ip}", limit * 10),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyRequests("too many login attempts: try again later", retry_after_s=wait)
