"""Roles and what each may do: the one table every guard reads."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BILLING_MANAGER = "billing_manager"
    MEMBER = "member"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    READ = "read"
    """See the organisation, its members, agents, analytics and reports."""
    USE = "use"
    """Create and run agents and reports."""
    MANAGE_BILLING = "manage_billing"
    """Change the plan and limits."""
    MANAGE_MEMBERS = "manage_members"
    """Invite, change roles, remove members; manage API keys and insights."""
    READ_AUDIT = "read_audit"
    MANAGE_ORGANIZATION = "manage_organization"
    """Rename the organisation."""
    MANAGE_COMPLIANCE = "manage_compliance"
    """Export and erase data, set retention policies and legal holds, read compliance reports."""
    MANAGE_SECRETS = "manage_secrets"
    """Store, rotate and revoke the organisation's provider keys."""
    REPORT_TELEMETRY = "report_telemetry"
    """Send call telemetry (engines, through an API key with the ``telemetry`` scope)."""


_EVERYONE = {Permission.READ}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_EVERYONE),
    Role.MEMBER: frozenset(_EVERYONE | {Permission.USE}),
    Role.BILLING_MANAGER: frozenset(_EVERYONE | {Permission.MANAGE_BILLING}),
    Role.ADMIN: frozenset(
        _EVERYONE
        | {
            Permission.USE,
            Permission.MANAGE_MEMBERS,
            Permission.READ_AUDIT,
            Permission.MANAGE_ORGANIZATION,
            Permission.MANAGE_COMPLIANCE,
            Permission.MANAGE_SECRETS,
        }
    ),
    Role.OWNER: frozenset(set(Permission) - {Permission.REPORT_TELEMETRY}),
}

ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.BILLING_MANAGER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Scope(enum.StrEnum):
    """What an API key may do; a key never exceeds its creator's role."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    TELEMETRY = "telemetry"


SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.READ: frozenset({Permission.READ}),
    Scope.WRITE: frozenset({Permission.READ, Permission.USE}),
    Scope.ADMIN: ROLE_PERMISSIONS[Role.ADMIN],
    Scope.TELEMETRY: frozenset({Permission.REPORT_TELEMETRY}),
}

SCOPE_MINIMUM_ROLE: dict[Scope, Role] = {
    Scope.READ: Role.VIEWER,
    Scope.WRITE: Role.MEMBER,
    Scope.ADMIN: Role.ADMIN,
    Scope.TELEMETRY: Role.ADMIN,
}


def can_grant(granter: Role, role: Role) -> bool:
    """Whether someone with ``granter`` may give ``role`` to another member (never above their own)."""
    return ROLE_RANK[role] <= ROLE_RANK[granter] and (granter == Role.OWNER or role != Role.OWNER)
