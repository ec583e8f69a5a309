"""The audit log: filters (actor, action, resource, period), pages of entries, the same as CSV."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response
from litestar.params import QueryParameter
from litestar.response import Template

from control_plane.audit import service as audit
from control_plane.audit.controller import CSV_ROWS
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.domain_errors import InvalidInput
from control_plane.organizations import service as organizations
from control_plane.routing import CurrentTenant, Db, get
from ui.admin.web import PageNumber, days_between, page, page_window, paged

Text = Annotated[str, QueryParameter(max_length=100)]
Day = Annotated[str, QueryParameter(max_length=40)]
Actor = Annotated[str, QueryParameter(max_length=10)]


def _filters(action: str, resource_type: str, actor: str, since: str, until: str) -> dict[str, Any]:
    start, end = days_between(since, until)
    if actor and not actor.isdigit():
        raise InvalidInput("the actor must be chosen from the list")
    return {
        "action": action or None,
        "resource_type": resource_type or None,
        "actor_user_id": int(actor) if actor else None,
        "since": start,
        "until": end,
    }


class AuditPages(Controller):
    path = "/ui/audit"
    include_in_schema = False
    guards = requires(Permission.READ_AUDIT)

    @get("/")
    def entries(
        self,
        db: Db,
        tenant: CurrentTenant,
        request: AnyRequest,
        action: Text = "",
        resource_type: Text = "",
        actor: Actor = "",
        since: Day = "",
        until: Day = "",
        page_number: PageNumber = 1,
    ) -> Template:
        filters = _filters(action, resource_type, actor, since, until)
        limit, offset = page_window(page_number)
        found = audit.search(db, tenant.organization_id, **filters, limit=limit, offset=offset)
        entries, pager = paged(request, found, page_number)
        members = {m.user_id: m.email for m in organizations.members(db, tenant.organization_id)}
        return page(
            request,
            db,
            "audit.html",
            entries=entries,
            **pager,
            members=members,
            chosen={
                "action": action,
                "resource_type": resource_type,
                "actor": int(actor) if actor.isdigit() else None,
                "since": since,
                "until": until,
            },
        )

    @get("/export.csv")
    def export(
        self,
        db: Db,
        tenant: CurrentTenant,
        action: Text = "",
        resource_type: Text = "",
        actor: Actor = "",
        since: Day = "",
        until: Day = "",
    ) -> Response[str]:
        filters = _filters(action, resource_type, actor, since, until)
        found = audit.search(db, tenant.organization_id, **filters, limit=CSV_ROWS, offset=0)
        return Response(
            audit.to_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
