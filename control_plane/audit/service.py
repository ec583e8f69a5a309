"""Writing the audit trail (inside the caller's transaction) and reading it back."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from control_plane.audit.models import AuditEntry
from control_plane.csv_export import to_csv as rows_to_csv
from control_plane.principals import AuditContext

_NEVER_RECORDED = {"password_hash", "key_hash", "token_hash"}


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    """A row as JSON for ``before``/``after``, without any secret or hash."""
    if row is None:
        return None
    return row.model_dump(mode="json", exclude=_NEVER_RECORDED)


def record(
    db: Session,
    context: AuditContext,
    organization_id: int | None,
    action: str,
    resource: SQLModel | None = None,
    *,
    resource_type: str = "",
    resource_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to ``db``'s transaction: it commits with the change it records, or not at all."""
    if resource is not None:
        resource_type = resource_type or str(getattr(resource, "__tablename__", type(resource).__name__))
        resource_id = resource_id or str(getattr(resource, "id", "") or "")
    entry = AuditEntry(
        organization_id=organization_id,
        actor_user_id=context.actor_user_id,
        actor_api_key_id=context.actor_api_key_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        before=before,
        after=after,
        ip=context.ip,
        user_agent=context.user_agent,
        request_id=context.request_id,
    )
    db.add(entry)
    return entry


def search(
    db: Session,
    organization_id: int,
    *,
    action: str | None = None,
    resource_type: str | None = None,
    actor_user_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.organization_id == organization_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if resource_type:
        query = query.where(AuditEntry.resource_type == resource_type)
    if actor_user_id is not None:
        query = query.where(AuditEntry.actor_user_id == actor_user_id)
    if since is not None:
        query = query.where(col(AuditEntry.created_at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.created_at) < until)
    return db.exec(query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)).all()


CSV_COLUMNS = [
    "id",
    "created_at",
    "organization_id",
    "actor_user_id",
    "actor_api_key_id",
    "action",
    "resource_type",
    "resource_id",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
]


def to_csv(entries: Sequence[AuditEntry]) -> str:
    rows = (e.model_dump(mode="json") | {"before": _json(e.before), "after": _json(e.after)} for e in entries)
    return rows_to_csv(rows, CSV_COLUMNS)


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True)
