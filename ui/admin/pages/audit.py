"""The audit log: filters (actor, action, resource, period), pages of entries, the same as CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Response
from litestar.params import Parameter
from litestar.response import Template

from control_plane.audit import service as audit
from control_plane.audit.controller import CSV_ROWS
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.organizations import service as organizations
from control_plane.routing import CurrentTenant, Db, get
from ui.admin.web import page

PAGE_SIZE = 50
Text = Annotated[str, Parameter(max_length=100)]
Day = Annotated[dt.date | None, Parameter()]
Actor = Annotated[int | None, Parameter(ge=1, le=2**31 - 1)]
PageNumber = Annotated[int, Parameter(ge=1, le=100_000)]


def _filters(action: str, resource_type: str, actor: int | None, since: dt.date | None, until: dt.date | None) -> dict[str, object]:
    return {
        "action": action or None,
        "resource_type": resource_type or None,
        "actor_user_id": actor,
        "since": dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        "until": dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC) if until else None,
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
        actor: Actor = None,
        since: Day = None,
        until: Day = None,
        page_number: Annotated[int, Parameter(query="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        filters = _filters(action, resource_type, actor, since, until)
        found = audit.search(
            db, tenant.organization_id, **filters, limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE  # type: ignore[arg-type]
        )
        members = {m.user_id: m.email for m in organizations.members(db, tenant.organization_id)}
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return page(
            request,
            db,
            "audit.html",
            entries=found[:PAGE_SIZE],
            has_next=len(found) > PAGE_SIZE,
            page_number=page_number,
            members=members,
            chosen={"action": action, "resource_type": resource_type, "actor": actor, "since": since, "until": until},
            query=query,
        )

    @get("/export.csv")
    def export(
        self,
        db: Db,
        tenant: CurrentTenant,
        action: Text = "",
        resource_type: Text = "",
        actor: Actor = None,
        since: Day = None,
        until: Day = None,
    ) -> Response[str]:
        filters = _filters(action, resource_type, actor, since, until)
        found = audit.search(db, tenant.organization_id, **filters, limit=CSV_ROWS, offset=0)  # type: ignore[arg-type]
        return Response(
            audit.to_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
