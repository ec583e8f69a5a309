"""What every page's frame shows: who is signed in, their organisations, and the navigation their role allows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from control_plane.auth.permissions import Permission, Role
from control_plane.organizations import service as organizations
from control_plane.principals import Principal
from control_plane.users.service import get_user


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission | None
    """Who sees it (``None``: owners only)."""


NAVIGATION = (
    NavItem("Overview", "/", Permission.READ),
    NavItem("Live", "/ui/live", Permission.READ),
    NavItem("Calls", "/ui/calls", Permission.READ),
    NavItem("Analytics", "/ui/analytics", Permission.READ),
    NavItem("Members", "/ui/members", Permission.READ),
    NavItem("API keys", "/ui/api-keys", Permission.MANAGE_MEMBERS),
    NavItem("Agents", "/ui/agents", Permission.READ),
    NavItem("Billing", "/ui/billing", Permission.READ),
    NavItem("Secrets", "/ui/secrets", Permission.MANAGE_SECRETS),
    NavItem("Compliance", "/ui/compliance", Permission.MANAGE_COMPLIANCE),
    NavItem("Audit log", "/ui/audit", Permission.READ_AUDIT),
    NavItem("System", "/ui/system", None),
)


@dataclass(frozen=True)
class OrganizationChoice:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class Shell:
    user_name: str
    user_email: str
    organization_id: int | None
    organizations: list[OrganizationChoice]
    permissions: frozenset[Permission]
    role: Role | None
    navigation: list[NavItem]

    def can(self, permission: str) -> bool:
        return Permission(permission) in self.permissions

    @property
    def organization_name(self) -> str:
        return next((o.name for o in self.organizations if o.id == self.organization_id), "")


def shell_of(db: Session, principal: Principal) -> Shell:
    """The frame for ``principal`` (a signed-in user) acting in their current organisation."""
    assert principal.user_id is not None
    user = get_user(db, principal.user_id)
    choices = [
        OrganizationChoice(o.id or 0, o.name, str(principal.roles.get(o.id or 0, "")))
        for o in organizations.of_user(db, principal.user_id)
    ]
    current = principal.organization_id
    permissions = principal.permissions_in(current) if current is not None else frozenset()
    role = principal.roles.get(current) if current is not None else None
    navigation = [
        item
        for item in NAVIGATION
        if (item.permission in permissions) or (item.permission is None and role == Role.OWNER)
    ]
    return Shell(user.name, user.email, current, choices, permissions, role, navigation)
