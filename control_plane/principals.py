"""Who is calling and in which organisation, as the services see it: no HTTP in here.

The HTTP side (reading these from a request) is :mod:`control_plane.context`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from control_plane.auth.permissions import ROLE_PERMISSIONS, Permission, Role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (session cookie) or an API key."""

    user_id: int | None
    organization_id: int | None
    """The organisation the caller acts in unless a route names one."""
    roles: dict[int, Role] = field(default_factory=dict)
    """The user's role in each of their organisations."""
    api_key_id: int | None = None
    key_permissions: frozenset[Permission] | None = None
    """An API key's permissions (from its scopes), in its own organisation only."""

    def permissions_in(self, organization_id: int) -> frozenset[Permission]:
        if self.key_permissions is not None:
            return self.key_permissions if organization_id == self.organization_id else frozenset()
        role = self.roles.get(organization_id)
        return ROLE_PERMISSIONS[role] if role else frozenset()


@dataclass(frozen=True)
class AuditContext:
    actor_user_id: int | None
    actor_api_key_id: int | None
    ip: str
    user_agent: str
    request_id: str


@dataclass(frozen=True)
class Tenant:
    """The organisation a request acts in, established by its route's guard."""

    organization_id: int
    principal: Principal
    audit: AuditContext
