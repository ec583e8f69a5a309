"""System (owners only): the readiness of each dependency, with its latency."""

from __future__ import annotations

from litestar import Controller
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template

from control_plane.auth.permissions import Role
from control_plane.context import AnyConnection, AnyRequest, acting_organization, principal_of
from control_plane.domain_errors import Forbidden
from control_plane.health.service import readiness
from control_plane.routing import Db, get
from control_plane.state import app_state
from settings import package_version
from ui.admin.web import page


def owners_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    organization_id = acting_organization(connection)
    if principal_of(connection).roles.get(organization_id) != Role.OWNER:
        raise Forbidden("the system page is for the organisation's owners")


class SystemPages(Controller):
    path = "/ui/system"
    include_in_schema = False

    @get("/", guards=[owners_only])
    def system(self, db: Db, state: State, request: AnyRequest) -> Template:
        ready = readiness(app_state(state))
        return page(request, db, "system.html", ready=ready, version=package_version())
