"""``/auth``: password login (session cookie), logout, choosing the organisation to act in."""

from __future__ import annotations

import structlog
from litestar import Controller, Response
from litestar.datastructures import Cookie, State
from litestar.params import JSONBody
from sqlmodel import col, delete, select

from control_plane.audit.service import record
from control_plane.auth.guards import signed_in_user
from control_plane.auth.models import UserSession
from control_plane.auth.passwords import verify_password
from control_plane.auth.schemas import Login, LoginResult, SwitchOrganization
from control_plane.auth.service import SESSION_COOKIE, first_organization, open_session, roles_of
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.domain_errors import Forbidden, TooManyRequests, Unauthenticated
from control_plane.routing import PUBLIC, Db, post
from control_plane.state import app_state
from control_plane.tokens import digest
from control_plane.users.models import User
from control_plane.users.schemas import UserRead

log = structlog.get_logger(__name__)


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/login", opt=PUBLIC, status_code=200, summary="Sign in; sets the session cookie")
    def login(self, db: Db, state: State, data: JSONBody[Login], request: AnyRequest) -> Response[LoginResult]:
        settings = app_state(state).settings
        context = audit_context(request)
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
        token, _ = open_session(db, user, organization_id, settings.session_ttl_s, context.ip, context.user_agent)
        record(db, context, organization_id, "auth.login", resource_type="user", resource_id=str(user.id))
        db.commit()
        return Response(
            LoginResult(user=UserRead.model_validate(user), organization_id=organization_id),
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=token,
                    max_age=settings.session_ttl_s,
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                    path="/",
                )
            ],
        )

    @post("/logout", status_code=204, guards=[signed_in_user], summary="Sign out; ends the session")
    def logout(self, db: Db, request: AnyRequest) -> Response[None]:
        token = request.cookies.get(SESSION_COOKIE)
        principal = principal_of(request)
        if token:
            db.exec(delete(UserSession).where(col(UserSession.token_hash) == digest(token)))
            record(
                db,
                audit_context(request),
                principal.organization_id,
                "auth.logout",
                resource_type="user",
                resource_id=str(principal.user_id),
            )
            db.commit()
        return Response(None, status_code=204, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @post("/organization", status_code=200, guards=[signed_in_user], summary="Act in another organisation")
    def switch(self, db: Db, data: JSONBody[SwitchOrganization], request: AnyRequest) -> LoginResult:
        principal = principal_of(request)
        token = request.cookies.get(SESSION_COOKIE)
        if data.organization_id not in principal.roles or not token:
            raise Forbidden(f"you are not a member of organisation {data.organization_id}")
        row = db.exec(select(UserSession).where(UserSession.token_hash == digest(token))).one()
        row.organization_id = data.organization_id
        db.add(row)
        db.commit()
        user = db.get(User, principal.user_id)
        return LoginResult(user=UserRead.model_validate(user), organization_id=data.organization_id)


def _check_login_budget(state: State, email: str, ip: str) -> None:
    shared = app_state(state)
    limit = shared.settings.login_attempts_per_minute
    # one address may serve many people (an office), so it gets a larger budget than one e-mail;
    # the e-mail is hashed so that Redis never holds it (nothing there for an erasure to miss)
    waits = [
        shared.limiter.retry_after(f"login:{digest(email)[:32]}", limit),
        shared.limiter.retry_after(f"login-ip:{ip}", limit * 10),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyRequests("too many login attempts: try again later", retry_after_s=wait)
