"""``/organizations``: create, read, rename, plan and limits, members, invitations."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Controller
from litestar.params import JSONBody

from control_plane.auth.guards import requires, signed_in_user
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.organizations import service
from control_plane.organizations.models import Organization
from control_plane.organizations.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    LimitsUpdate,
    MemberRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    RoleChange,
)
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, patch, post, put


class OrganizationController(Controller):
    path = "/organizations"
    tags = ("organizations",)

    @post("/", guards=[signed_in_user], summary="Create an organisation; you become its owner")
    def create(self, db: Db, data: JSONBody[OrganizationCreate], request: AnyRequest) -> OrganizationRead:
        user_id = principal_of(request).user_id
        assert user_id is not None
        return OrganizationRead.model_validate(service.create(db, data, user_id, audit_context(request)))

    @get("/", summary="The organisations the caller belongs to")
    def mine(self, db: Db, request: AnyRequest) -> list[OrganizationRead]:
        principal = principal_of(request)
        found: Sequence[Organization]
        if principal.user_id is not None:
            found = service.of_user(db, principal.user_id)
        else:
            found = [service.get(db, principal.organization_id)] if principal.organization_id else []
        return [OrganizationRead.model_validate(o) for o in found]

    @get("/{organization_id:int}", guards=requires(Permission.READ))
    def get_one(self, db: Db, tenant: CurrentTenant, organization_id: IdParam) -> OrganizationRead:
        return OrganizationRead.model_validate(service.get(db, tenant.organization_id))

    @patch("/{organization_id:int}", guards=requires(Permission.MANAGE_ORGANIZATION), summary="Rename")
    def update(
        self, db: Db, tenant: CurrentTenant, organization_id: IdParam, data: JSONBody[OrganizationUpdate]
    ) -> OrganizationRead:
        return OrganizationRead.model_validate(service.rename(db, tenant, data))

    @put(
        "/{organization_id:int}/limits",
        guards=requires(Permission.MANAGE_BILLING),
        summary="Member, agent and spend-alert limits, up to the plan's (plans change through /billing)",
    )
    def limits(
        self, db: Db, tenant: CurrentTenant, organization_id: IdParam, data: JSONBody[LimitsUpdate]
    ) -> OrganizationRead:
        return OrganizationRead.model_validate(service.set_limits(db, tenant, data))

    @get("/{organization_id:int}/members", guards=requires(Permission.READ))
    def members(self, db: Db, tenant: CurrentTenant, organization_id: IdParam) -> list[MemberRead]:
        return service.members(db, tenant.organization_id)

    @patch("/{organization_id:int}/members/{user_id:int}", guards=requires(Permission.MANAGE_MEMBERS))
    def change_role(
        self, db: Db, tenant: CurrentTenant, organization_id: IdParam, user_id: IdParam, data: JSONBody[RoleChange]
    ) -> MemberRead:
        return service.change_role(db, tenant, user_id, data.role)

    @delete("/{organization_id:int}/members/{user_id:int}", guards=requires(Permission.MANAGE_MEMBERS))
    def remove_member(self, db: Db, tenant: CurrentTenant, organization_id: IdParam, user_id: IdParam) -> None:
        service.remove_member(db, tenant, user_id)

    @post("/{organization_id:int}/invitations", guards=requires(Permission.MANAGE_MEMBERS))
    def invite(
        self, db: Db, tenant: CurrentTenant, organization_id: IdParam, data: JSONBody[InvitationCreate]
    ) -> InvitationCreated:
        return service.invite(db, tenant, data)

    @get("/{organization_id:int}/invitations", guards=requires(Permission.MANAGE_MEMBERS))
    def invitations(self, db: Db, tenant: CurrentTenant, organization_id: IdParam) -> list[InvitationRead]:
        return [InvitationRead.model_validate(i) for i in service.invitations(db, tenant.organization_id)]

    @delete("/{organization_id:int}/invitations/{invitation_id:int}", guards=requires(Permission.MANAGE_MEMBERS))
    def revoke_invitation(
        self, db: Db, tenant: CurrentTenant, organization_id: IdParam, invitation_id: IdParam
    ) -> None:
        service.revoke_invitation(db, tenant, invitation_id)


class InvitationController(Controller):
    path = "/invitations"
    tags = ("organizations",)

    @post("/accept", guards=[signed_in_user], status_code=200, summary="Join an organisation with an invitation")
    def accept(self, db: Db, data: JSONBody[InvitationAccept], request: AnyRequest) -> MemberRead:
        principal = principal_of(request)
        assert principal.user_id is not None
        membership = service.accept(db, data.token, principal.user_id, audit_context(request))
        return next(m for m in service.members(db, membership.organization_id) if m.user_id == principal.user_id)
