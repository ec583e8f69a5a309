"""``/audit``: read-only. There is no route that changes or deletes an entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from litestar import Controller, Response
from litestar.params import QueryParameter

from control_plane.audit import service
from control_plane.audit.models import AuditEntry
from control_plane.audit.schemas import AuditEntryRead
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.routing import CurrentTenant, Db, Limit, Offset, get

Filter = Annotated[str | None, QueryParameter(max_length=100)]
ActorId = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
Moment = Annotated[dt.datetime | None, QueryParameter(description="ISO 8601")]


class AuditController(Controller):
    path = "/audit"
    tags = ("audit",)
    guards = requires(Permission.READ_AUDIT)

    @get("/", summary="The organisation's audit trail, newest first, filtered")
    def list_entries(
        self,
        db: Db,
        tenant: CurrentTenant,
        action: Filter = None,
        resource_type: Filter = None,
        actor_user_id: ActorId = None,
        since: Moment = None,
        until: Moment = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[AuditEntryRead]:
        entries = _search(db, tenant, action, resource_type, actor_user_id, since, until, limit, offset)
        return [AuditEntryRead.model_validate(e) for e in entries]

    @get("/export.csv", media_type="text/csv", summary="The same, as CSV (up to 100,000 rows)")
    def export_csv(
        self,
        db: Db,
        tenant: CurrentTenant,
        action: Filter = None,
        resource_type: Filter = None,
        actor_user_id: ActorId = None,
        since: Moment = None,
        until: Moment = None,
    ) -> Response[str]:
        entries = _search(db, tenant, action, resource_type, actor_user_id, since, until, 100_000, 0)
        return Response(
            service.to_csv(entries),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )


def _search(
    db: Db,
    tenant: CurrentTenant,
    action: str | None,
    resource_type: str | None,
    actor_user_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
    offset: int,
) -> Sequence[AuditEntry]:
    return service.search(
        db,
        tenant.organization_id,
        action=action,
        resource_type=resource_type,
        actor_user_id=actor_user_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
