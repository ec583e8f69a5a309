"""Sign in, sign up, sign out, a first organisation, switching organisation, accepting an invitation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from control_plane.auth.controller import ended_session_cookie, session_cookie
from control_plane.auth.guards import signed_in_user
from control_plane.auth.schemas import Login, SwitchOrganization
from control_plane.auth.service import SESSION_COOKIE, open_session, roles_of
from control_plane.auth.signin import sign_in, sign_out, switch_organization
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.domain_errors import ClientError, Conflict, NotFound, Unauthenticated
from control_plane.organizations import service as organizations
from control_plane.organizations.schemas import InvitationAccept, OrganizationCreate
from control_plane.principals import Principal
from control_plane.routing import PUBLIC, Db, get, post
from control_plane.state import app_state
from control_plane.users import service as users
from control_plane.users.schemas import SignUp
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.web import NEW_ORGANIZATION, SIGN_IN, back_to, bare_page, page

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
NextPath = Annotated[str, QueryParameter(name="next", max_length=500)]


def _safe_next(path: str) -> str:
    """Only a path on this site, never another origin (an open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


class AccountPages(Controller):
    path = "/ui"
    include_in_schema = False

    @get("/sign-in", opt=PUBLIC)
    def sign_in_form(self, next_path: NextPath = "/") -> Template:
        return bare_page("sign_in.html", next_path=_safe_next(next_path))

    @post("/sign-in", opt=PUBLIC)
    def sign_in(self, db: Db, state: State, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data)
        target = _safe_next(values.pop("next", "/"))
        try:
            login = parse(Login, values)
            token, result = sign_in(db, app_state(state), login, audit_context(request))
        except FormError as refused:
            return bare_page("sign_in.html", form=refused.state, next_path=target, status_code=400)
        except (Unauthenticated, ClientError) as error:
            state_ = FormState({"email": values.get("email", "")}, problem=error.message)
            return bare_page("sign_in.html", form=state_, next_path=target, status_code=400)
        if result.organization_id is None:
            target = NEW_ORGANIZATION
        redirect = back_to(target)
        redirect.set_cookie(session_cookie(token, app_state(state).settings.session_ttl_s, request))
        return redirect

    @get("/sign-up", opt=PUBLIC)
    def sign_up_form(self, next_path: NextPath = "/") -> Template:
        return bare_page("sign_up.html", next_path=_safe_next(next_path))

    @post("/sign-up", opt=PUBLIC)
    def sign_up(self, db: Db, state: State, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data)
        target = _safe_next(values.pop("next", "/"))
        shown = {k: v for k, v in values.items() if k != "password"}
        try:
            user = users.sign_up(db, parse(SignUp, values), audit_context(request))
        except FormError as refused:
            refused.state.values = shown
            return bare_page("sign_up.html", form=refused.state, next_path=target, status_code=400)
        except Conflict as error:
            return bare_page(
                "sign_up.html", form=FormState(shown, {"email": error.message}), next_path=target, status_code=400
            )
        settings = app_state(state).settings
        context = audit_context(request)
        token, _ = open_session(db, user, None, settings.session_ttl_s, context.ip, context.user_agent)
        db.commit()
        redirect = back_to(target if target != "/" else NEW_ORGANIZATION)
        redirect.set_cookie(session_cookie(token, settings.session_ttl_s, request))
        return redirect

    @post("/sign-out", guards=[signed_in_user])
    def sign_out(self, db: Db, request: AnyRequest) -> Redirect:
        sign_out(db, request.cookies.get(SESSION_COOKIE), principal_of(request), audit_context(request))
        redirect = back_to(SIGN_IN)
        redirect.set_cookie(ended_session_cookie())
        return redirect

    @get("/organisations/new", guards=[signed_in_user])
    def new_organization_form(self, db: Db, request: AnyRequest) -> Template:
        return page(request, db, "organization_new.html")

    @post("/organisations/new", guards=[signed_in_user])
    def new_organization(self, db: Db, data: FormBody, request: AnyRequest) -> Template | Redirect:
        principal = principal_of(request)
        assert principal.user_id is not None
        try:
            created = organizations.create(
                db, parse(OrganizationCreate, form_values(data)), principal.user_id, audit_context(request)
            )
        except FormError as refused:
            return page(request, db, "organization_new.html", form=refused.state, status_code=400)
        assert created.id is not None
        _act_in(db, request, created.id)
        return back_to("/")

    @post("/organisation", guards=[signed_in_user])
    def switch(self, db: Db, data: FormBody, request: AnyRequest) -> Redirect:
        choice = parse(SwitchOrganization, form_values(data))
        switch_organization(db, request.cookies.get(SESSION_COOKIE), principal_of(request), choice.organization_id)
        return back_to("/")

    @get("/invitation", opt=PUBLIC)
    def invitation(self, request: AnyRequest, token: Annotated[str, QueryParameter(max_length=200)] = "") -> Template:
        signed_in = request.cookies.get(SESSION_COOKIE) is not None
        return bare_page("invitation.html", token=token, signed_in=signed_in)

    @post("/invitation", guards=[signed_in_user])
    def accept_invitation(self, db: Db, data: FormBody, request: AnyRequest) -> Template | Redirect:
        principal = principal_of(request)
        assert principal.user_id is not None
        values = form_values(data)
        try:
            accepted = parse(InvitationAccept, values)
            membership = organizations.accept(db, accepted.token, principal.user_id, audit_context(request))
        except FormError as refused:
            return bare_page("invitation.html", form=refused.state, token="", signed_in=True, status_code=400)
        except (NotFound, ClientError) as error:
            state_ = FormState(values, {"token": error.message})
            return bare_page(
                "invitation.html", form=state_, token=values.get("token", ""), signed_in=True, status_code=400
            )
        _act_in(db, request, membership.organization_id)
        return back_to("/")


def _act_in(db: Db, request: AnyRequest, organization_id: int) -> None:
    """Point the session at an organisation the user has just joined (the request's principal predates it)."""
    user_id = principal_of(request).user_id
    assert user_id is not None
    now = Principal(user_id=user_id, organization_id=organization_id, roles=roles_of(db, user_id))
    switch_organization(db, request.cookies.get(SESSION_COOKIE), now, organization_id)
