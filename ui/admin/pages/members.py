"""Members: the list, invitations (the link shown once), changing a role, removing someone."""

from __future__ import annotations

from typing import Any

from litestar import Controller
from litestar.response import Redirect, Template

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission, Role
from control_plane.context import AnyRequest
from control_plane.domain_errors import ClientError
from control_plane.organizations import service as organizations
from control_plane.organizations.schemas import InvitationCreate, RoleChange
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import back_to, page, refusal_status

ROLES = [(role.value, role.value.replace("_", " ")) for role in Role]


class MemberPages(Controller):
    path = "/ui/members"
    include_in_schema = False

    @get("/", guards=requires(Permission.READ))
    def members(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return _page(db, tenant, request)

    @post("/invitations", guards=requires(Permission.MANAGE_MEMBERS))
    def invite(self, db: Db, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template:
        values = form_values(data)
        try:
            created = organizations.invite(db, tenant, parse(InvitationCreate, values))
        except FormError as refused:
            return _page(db, tenant, request, form=refused.state, status_code=400)
        except ClientError as error:
            return _page(
                db, tenant, request, form=FormState(values, {"email": error.message}), status_code=refusal_status(error)
            )
        link = f"{request.base_url}ui/invitation?token={created.token}"
        return _page(db, tenant, request, invited=created.email, invitation_link=link)

    @post("/invitations/{invitation_id:int}/revoke", guards=requires(Permission.MANAGE_MEMBERS))
    def revoke(self, db: Db, tenant: CurrentTenant, invitation_id: IdParam) -> Redirect:
        organizations.revoke_invitation(db, tenant, invitation_id)
        return back_to("/ui/members")

    @post("/{user_id:int}/role", guards=requires(Permission.MANAGE_MEMBERS))
    def change_role(
        self, db: Db, tenant: CurrentTenant, user_id: IdParam, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        try:
            organizations.change_role(db, tenant, user_id, parse(RoleChange, form_values(data)).role)
        except (FormError, ClientError) as error:
            return _page(db, tenant, request, row_errors={user_id: _message(error)}, status_code=refusal_status(error))
        return back_to("/ui/members")

    @post("/{user_id:int}/remove", guards=requires(Permission.MANAGE_MEMBERS))
    def remove(self, db: Db, tenant: CurrentTenant, user_id: IdParam, request: AnyRequest) -> Template | Redirect:
        try:
            organizations.remove_member(db, tenant, user_id)
        except ClientError as error:
            return _page(db, tenant, request, row_errors={user_id: error.message}, status_code=refusal_status(error))
        return back_to("/ui/members")


def _message(error: Exception) -> str:
    if isinstance(error, FormError):
        return next(iter(error.state.errors.values()), str(error))
    return error.message if isinstance(error, ClientError) else str(error)


def _page(db: Db, tenant: Tenant, request: AnyRequest, **context: Any) -> Template:
    can_manage = Permission.MANAGE_MEMBERS in tenant.principal.permissions_in(tenant.organization_id)
    pending = [
        i
        for i in (organizations.invitations(db, tenant.organization_id) if can_manage else [])
        if i.accepted_at is None and i.revoked_at is None
    ]
    return page(
        request,
        db,
        "members.html",
        members=organizations.members(db, tenant.organization_id),
        pending=pending,
        roles=ROLES,
        me=tenant.principal.user_id,
        row_errors=context.pop("row_errors", {}),
        **context,
    )
