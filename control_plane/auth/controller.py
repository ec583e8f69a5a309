"""``/auth``: password login (session cookie), logout, choosing the organisation to act in."""

from __future__ import annotations

from litestar import Controller, Response
from litestar.datastructures import Cookie, State
from litestar.params import JSONBody

from control_plane.auth.guards import signed_in_user
from control_plane.auth.schemas import Login, LoginResult, SwitchOrganization
from control_plane.auth.service import SESSION_COOKIE
from control_plane.auth.signin import sign_in, sign_out, switch_organization
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.routing import PUBLIC, Db, post
from control_plane.state import app_state


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/login", opt=PUBLIC, status_code=200, summary="Sign in; sets the session cookie")
    def login(self, db: Db, state: State, data: JSONBody[Login], request: AnyRequest) -> Response[LoginResult]:
        shared = app_state(state)
        token, result = sign_in(db, shared, data, audit_context(request))
        return Response(result, cookies=[session_cookie(token, shared.settings.session_ttl_s, request)])

    @post("/logout", status_code=204, guards=[signed_in_user], summary="Sign out; ends the session")
    def logout(self, db: Db, request: AnyRequest) -> Response[None]:
        sign_out(db, request.cookies.get(SESSION_COOKIE), principal_of(request), audit_context(request))
        return Response(None, status_code=204, cookies=[ended_session_cookie()])

    @post("/organization", status_code=200, guards=[signed_in_user], summary="Act in another organisation")
    def switch(self, db: Db, data: JSONBody[SwitchOrganization], request: AnyRequest) -> LoginResult:
        return switch_organization(db, request.cookies.get(SESSION_COOKIE), principal_of(request), data.organization_id)


def session_cookie(token: str, ttl_s: int, request: AnyRequest) -> Cookie:
    """The session cookie holding ``token`` (HTTP only, same site, secure over HTTPS)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=ttl_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def ended_session_cookie() -> Cookie:
    """The cookie that makes the browser forget the session."""
    return Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")
