"""Route guards: every organisation-scoped route names the permission it needs."""

from __future__ import annotations

from collections.abc import Callable

from litestar.handlers.base import BaseRouteHandler

from control_plane.auth.permissions import Permission
from control_plane.context import AnyConnection, acting_organization, principal_of
from control_plane.domain_errors import Forbidden

Guard = Callable[[AnyConnection, BaseRouteHandler], None]


def requires(permission: Permission) -> list[Guard]:
    """Guards that let the request through only with ``permission`` in the organisation it acts in."""

    def guard(connection: AnyConnection, _: BaseRouteHandler) -> None:
        organization_id = acting_organization(connection)
        if permission not in principal_of(connection).permissions_in(organization_id):
            raise Forbidden(f"this needs the '{permission}' permission in organisation {organization_id}")

    return [guard]


def signed_in_user(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """For routes about the user themselves: a session or key acting for a user, not an engine's key."""
    if principal_of(connection).user_id is None:
        raise Forbidden("this route is for signed-in users")
