"""``/audit``: read-only. There is no route that changes or deletes an entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from control_plane.audit import service
from control_plane.audit.schemas import AuditEntryRead
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.routing import CurrentTenant, Db, Limit, Offset, get

Filter = Annotated[str | None, QueryParameter(max_length=100)]
ActorId = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
Moment = Annotated[dt.datetime | None, QueryParameter(description="ISO 8601")]
CSV_ROWS = 100_000


@dataclass(frozen=True)
class AuditQuery:
    action: str | None
    resource_type: str | None
    actor_user_id: int | None
    since: dt.datetime | None
    until: dt.datetime | None


def provide_query(
    action: Filter = None,
    resource_type: Filter = None,
    actor_user_id: ActorId = None,
    since: Moment = None,
    until: Moment = None,
) -> AuditQuery:
    """The filters both routes share."""
    return AuditQuery(action, resource_type, actor_user_id, since, until)


class AuditController(Controller):
    path = "/audit"
    tags = ("audit",)
    guards = requires(Permission.READ_AUDIT)
    dependencies = {"filters": Provide(provide_query, sync_to_thread=False)}  # noqa: RUF012

    @get("/", summary="The organisation's audit trail, newest first, filtered")
    def list_entries(
        self,
        db: Db,
        tenant: CurrentTenant,
        filters: NamedDependency[AuditQuery],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[AuditEntryRead]:
        entries = service.search(db, tenant.organization_id, **vars(filters), limit=limit, offset=offset)
        return [AuditEntryRead.model_validate(e) for e in entries]

    @get("/export.csv", media_type="text/csv", summary=f"The same, as CSV (up to {CSV_ROWS:,} rows)")
    def export_csv(self, db: Db, tenant: CurrentTenant, filters: NamedDependency[AuditQuery]) -> Response[str]:
        entries = service.search(db, tenant.organization_id, **vars(filters), limit=CSV_ROWS, offset=0)
        return Response(
            service.to_csv(entries),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
