"""Compliance reports per standard (GDPR first): what is held where, how long, under what holds,
how requests were answered, and how much of it the audit trail covers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from control_plane.audit.models import AuditEntry
from control_plane.compliance.models import ComplianceRequest, LegalHold, RequestStatus, RetentionPolicy
from control_plane.compliance.personal_data import REGISTRY, OnErasure
from control_plane.compliance.schemas import LegalHoldRead, RetentionPolicyRead
from control_plane.csv_export import to_csv
from control_plane.db.tables import metadata
from control_plane.db.types import utcnow

DEADLINE_DAYS = 30
"""GDPR Art. 12(3): a request is answered within one month."""


def gdpr(db: Session, organization_id: int) -> dict[str, Any]:
    """The GDPR report of one organisation (another standard gets its own function and route)."""
    requests = db.exec(select(ComplianceRequest).where(ComplianceRequest.organization_id == organization_id)).all()
    return {
        "standard": "gdpr",
        "organization_id": organization_id,
        "generated_at": utcnow().isoformat(),
        "data_categories": _categories(db, organization_id),
        "retention_policies": [
            RetentionPolicyRead.model_validate(p).model_dump(mode="json")
            for p in db.exec(select(RetentionPolicy).where(RetentionPolicy.organization_id == organization_id)).all()
        ],
        "legal_holds": [
            LegalHoldRead.model_validate(h).model_dump(mode="json")
            for h in db.exec(
                select(LegalHold).where(
                    LegalHold.organization_id == organization_id, col(LegalHold.released_at).is_(None)
                )
            ).all()
        ],
        "requests": {kind: _requests(requests, kind) for kind in ("export", "erasure")},
        "audit": _audit(db, organization_id),
    }


def _categories(db: Session, organization_id: int) -> list[dict[str, Any]]:
    """Each registered table that holds personal data: its columns, how erasure treats it, its rows here."""
    found = []
    for name, entry in sorted(REGISTRY.items()):
        if not entry.personal or name not in metadata.tables:
            continue
        table = metadata.tables[name]
        rows = None
        if entry.organization_column is not None:
            rows = db.execute(
                select(func.count()).select_from(table).where(table.c[entry.organization_column] == organization_id)
            ).scalar_one()
        found.append(
            {
                "table": name,
                "personal_columns": {column: str(treatment) for column, treatment in entry.personal.items()},
                "on_erasure": str(entry.on_erasure),
                "rows": rows,
                "kept_anonymised": entry.on_erasure in (OnErasure.PSEUDONYMISE, OnErasure.CUSTOM),
            }
        )
    return found


def _requests(requests: Any, kind: str) -> dict[str, Any]:
    mine = [r for r in requests if r.kind == kind]
    days = [_days(r) for r in mine if r.status == RequestStatus.COMPLETED and r.finished_at]
    overdue = [
        r.id for r in mine if r.status in (RequestStatus.PENDING, RequestStatus.PROCESSING) and _age(r) > DEADLINE_DAYS
    ]
    return {
        "total": len(mine),
        "by_status": dict(Counter(r.status for r in mine)),
        "completed_within_deadline": sum(1 for d in days if d <= DEADLINE_DAYS),
        "completed_late": sum(1 for d in days if d > DEADLINE_DAYS),
        "open_past_deadline": overdue,
        "slowest_days": round(max(days), 3) if days else None,
        "deadline_days": DEADLINE_DAYS,
        "items": [
            {
                "id": r.id,
                "status": r.status,
                "scope": r.scope,
                "created_at": r.created_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "days_to_finish": round(_days(r), 3) if r.finished_at else None,
            }
            for r in mine
        ],
    }


def _days(request: ComplianceRequest) -> float:
    assert request.finished_at is not None
    return (request.finished_at - request.created_at) / dt.timedelta(days=1)


def _age(request: ComplianceRequest) -> float:
    return (utcnow() - request.created_at) / dt.timedelta(days=1)


def _audit(db: Session, organization_id: int) -> dict[str, Any]:
    where = col(AuditEntry.organization_id) == organization_id
    count, first, last = db.execute(
        select(func.count(), func.min(AuditEntry.created_at), func.max(AuditEntry.created_at)).where(where)
    ).one()
    compliance = db.execute(
        select(func.count()).where(where, col(AuditEntry.action).startswith("compliance."))
    ).scalar_one()
    return {
        "entries": count,
        "first_at": first.isoformat() if first else None,
        "last_at": last.isoformat() if last else None,
        "compliance_entries": compliance,
        "append_only": True,
        "erasure": "entries are kept; identities in them are replaced by pseudonyms through audited redaction markers",
    }


def to_rows_csv(found: dict[str, Any]) -> str:
    """The report flattened to ``section,key,value`` rows (for a spreadsheet)."""
    rows: list[dict[str, Any]] = []
    for category in found["data_categories"]:
        rows.append({"section": "data_category", "key": category["table"], "value": category["rows"]})
    for policy in found["retention_policies"]:
        value = f"{policy['retention_days']} days" + (" (legal hold)" if policy["legal_hold"] else "")
        rows.append({"section": "retention_policy", "key": policy["resource_type"], "value": value})
    for hold in found["legal_holds"]:
        rows.append({"section": "legal_hold", "key": hold["id"], "value": hold["reason"]})
    for kind, summary in found["requests"].items():
        for key in ("total", "completed_within_deadline", "completed_late"):
            rows.append({"section": f"{kind}_requests", "key": key, "value": summary[key]})
    for key in ("entries", "compliance_entries", "first_at", "last_at"):
        rows.append({"section": "audit", "key": key, "value": found["audit"][key]})
    return to_csv(rows, ["section", "key", "value"])
