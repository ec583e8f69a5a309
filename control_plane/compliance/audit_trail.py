"""The audit trail about a person: finding its entries, and pseudonymising them through the one narrow path
the database allows (an :class:`AuditRedaction` marker first, then an UPDATE of the identity columns only;
migration 0004's trigger refuses anything else)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from control_plane.audit.models import AuditEntry
from control_plane.compliance.models import AuditRedaction
from control_plane.compliance.pseudonyms import Pseudonymizer
from control_plane.compliance.redaction import account_pseudonym, json_mentions, redact_json, redact_text
from control_plane.compliance.subjects import Subject

BATCH = 500


def about(subject: Subject) -> ColumnElement[bool]:
    """Entries by the person, about their account, naming one of their identities, or mentioning them."""
    clauses: list[ColumnElement[bool]] = [
        col(AuditEntry.resource_id).in_(sorted(subject.strings())),
        json_mentions(AuditEntry.before, subject),
        json_mentions(AuditEntry.after, subject),
    ]
    if subject.user_id is not None:
        clauses.append(col(AuditEntry.actor_user_id) == subject.user_id)
        clauses.append(
            and_(col(AuditEntry.resource_type) == "user", col(AuditEntry.resource_id) == str(subject.user_id))
        )
    return or_(*clauses)


def entries(db: Session, subject: Subject, organization_id: int | None) -> Iterator[AuditEntry]:
    """The entries :func:`about` the subject, oldest first, in batches (``organization_id`` None: everywhere)."""
    last = 0
    while True:
        query = select(AuditEntry).where(about(subject), col(AuditEntry.id) > last)
        if organization_id is not None:
            query = query.where(AuditEntry.organization_id == organization_id)
        batch: Sequence[AuditEntry] = db.exec(query.order_by(col(AuditEntry.id)).limit(BATCH)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id or last


def pseudonymise(
    db: Session, subject: Subject, organization_id: int | None, pseudonyms: Pseudonymizer, request_id: int
) -> int:
    """Redact every entry about the subject; returns how many changed."""
    changed = 0
    for entry in list(entries(db, subject, organization_id)):
        values = _redacted(entry, subject, pseudonyms)
        if not values:
            continue
        assert entry.id is not None
        db.add(AuditRedaction(entry_id=entry.id, request_id=request_id))
        db.flush()
        db.execute(update(AuditEntry).where(col(AuditEntry.id) == entry.id).values(**values))
        changed += 1
    db.expire_all()
    return changed


def _redacted(entry: AuditEntry, subject: Subject, pseudonyms: Pseudonymizer) -> dict[str, object]:
    """The identity columns of ``entry`` that change, with their new values."""
    account = (
        subject.user_id is not None and entry.resource_type == "user" and entry.resource_id == str(subject.user_id)
    )
    new: dict[str, object] = {
        "resource_id": (
            account_pseudonym(pseudonyms, subject.user_id)
            if account and subject.user_id is not None
            else redact_text(entry.resource_id, subject, pseudonyms)
        ),
        "before": redact_json(entry.before, subject, pseudonyms, about_account=account),
        "after": redact_json(entry.after, subject, pseudonyms, about_account=account),
    }
    if subject.user_id is not None and entry.actor_user_id == subject.user_id:
        new["ip"] = pseudonyms.of(entry.ip) if entry.ip else ""
        new["user_agent"] = ""
    return {name: value for name, value in new.items() if value != getattr(entry, name)}
