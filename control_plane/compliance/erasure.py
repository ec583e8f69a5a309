"""Erasure: personal data removed from every registered table, aggregates kept with pseudonyms.

Scope: a request made in an organisation erases the person's data in that organisation; when the person
then belongs to no other organisation (or asked for it themselves), it erases them everywhere, and their
account becomes a tombstone (pseudonymous e-mail and name, no password, inactive) so the ids that
aggregates, API keys and the audit trail point at still resolve, to nobody.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, or_, select, true, update
from sqlmodel import Session, col

from control_plane.compliance import audit_trail
from control_plane.compliance.holds import check_erasable, memberships_of
from control_plane.compliance.models import ComplianceRequest
from control_plane.compliance.personal_data import REGISTRY, Identifies, OnErasure, PersonalTable, Treatment
from control_plane.compliance.pseudonyms import ERASED_EMAIL_DOMAIN, Pseudonymizer
from control_plane.compliance.redaction import account_pseudonym, json_mentions, redact_json, redact_text
from control_plane.compliance.subjects import Subject
from control_plane.db.tables import metadata
from control_plane.telemetry import rollups
from control_plane.users.models import User

ERASED_PASSWORD = "!erased"
"""Not a hash any password verifies against."""


def erase(db: Session, request: ComplianceRequest, subject: Subject, pseudonyms: Pseudonymizer) -> dict[str, int]:
    """Carry out an erasure request about ``subject`` (without committing); returns rows changed per table."""
    orgs = memberships_of(db, subject.user_id) if subject.user_id is not None else []
    everywhere = request.organization_id is None or (
        subject.user_id is not None and set(orgs) <= {request.organization_id}
    )
    scope = None if everywhere else request.organization_id
    check_erasable(db, orgs if scope is None else [scope], subject.user_id)
    if request.organization_id is not None:
        check_erasable(db, [request.organization_id], None)
    summary: dict[str, int] = {}
    for entry in REGISTRY.values():
        if entry.on_erasure in (OnErasure.DELETE_ROW, OnErasure.PSEUDONYMISE) and entry.table in metadata.tables:
            summary[entry.table] = _erase_table(db, metadata.tables[entry.table], entry, subject, scope, pseudonyms)
    summary["compliance_request"] = _erase_requests(db, subject, scope, pseudonyms)
    assert request.id is not None
    summary["audit_entry"] = audit_trail.pseudonymise(db, subject, scope, pseudonyms, request.id)
    if everywhere and subject.user_id is not None:
        summary["user"] = _tombstone(db, subject.user_id, pseudonyms)
    return {table: count for table, count in summary.items() if count}


def _in_scope(table: Table, entry: PersonalTable, scope: int | None) -> ColumnElement[bool]:
    if scope is None or entry.organization_column is None:
        return true()
    return table.c[entry.organization_column] == scope


def _erase_table(
    db: Session, table: Table, entry: PersonalTable, subject: Subject, scope: int | None, pseudonyms: Pseudonymizer
) -> int:
    where = _in_scope(table, entry, scope)
    if entry.on_erasure == OnErasure.DELETE_ROW:
        return int(db.execute(delete(table).where(where, subject.matches(table, entry))).rowcount)  # type: ignore[attr-defined]
    changed = _pseudonymise_identities(db, table, entry, subject, where, pseudonyms)
    return changed + _redact_rows(db, table, entry, subject, where, pseudonyms)


def _pseudonymise_identities(
    db: Session,
    table: Table,
    entry: PersonalTable,
    subject: Subject,
    where: ColumnElement[bool],
    pseudonyms: Pseudonymizer,
) -> int:
    """The fast path: one UPDATE per identifier for each personal column that identifies the person."""
    changed = 0
    for name, kind in entry.subject.items():
        if entry.personal.get(name) != Treatment.PSEUDONYMISE or kind == Identifies.USER_ID:
            continue
        values = subject.strings() if kind == Identifies.IDENTITY else subject.emails
        for value in sorted(values):
            replacement = pseudonyms.email(value) if value in subject.emails else pseudonyms.of(value)
            changed += _rename(db, table, where, name, value, replacement)
        if kind == Identifies.IDENTITY:
            changed += _pseudonymise_numeric(db, table, entry, subject, where, pseudonyms, name)
    return changed


def _pseudonymise_numeric(
    db: Session,
    table: Table,
    entry: PersonalTable,
    subject: Subject,
    where: ColumnElement[bool],
    pseudonyms: Pseudonymizer,
    name: str,
) -> int:
    """A bare ``"<id>"`` identity names the person only in the organisations they belong to."""
    home = subject.at_home(table, entry)
    if home is None:
        return 0
    changed = 0
    for value in sorted(subject.numeric()):
        changed += _rename(db, table, and_(where, home), name, value, pseudonyms.of(value))
    return changed


def _rename(db: Session, table: Table, where: ColumnElement[bool], column: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in ``column``; a rollup merges the person's rows into the pseudonym's."""
    merged = rollups.rename(db, table, where, column, old, new)
    if merged is not None:
        return merged
    statement = update(table).where(where, table.c[column] == old).values({column: new})
    return int(db.execute(statement).rowcount)  # type: ignore[attr-defined]


def _redact_rows(
    db: Session,
    table: Table,
    entry: PersonalTable,
    subject: Subject,
    where: ColumnElement[bool],
    pseudonyms: Pseudonymizer,
) -> int:
    """The other personal columns, row by row, in rows about the person or whose JSON mentions them."""
    json_columns = [n for n, t in entry.personal.items() if t == Treatment.REDACT_JSON]
    others = [n for n, t in entry.personal.items() if t != Treatment.REDACT_JSON and n not in entry.subject]
    if not json_columns and not others:
        return 0
    candidates = or_(subject.matches(table, entry), *(json_mentions(table.c[n], subject) for n in json_columns))
    key = next(iter(table.primary_key.columns))
    rows = db.execute(select(key, *(table.c[n] for n in json_columns + others)).where(where, candidates)).all()
    changed = 0
    for row in rows:
        values = _row_values(row._mapping, entry, subject, pseudonyms)
        if values:
            db.execute(update(table).where(key == row[0]).values(values))
            changed += 1
    return changed


def _row_values(row: Any, entry: PersonalTable, subject: Subject, pseudonyms: Pseudonymizer) -> dict[str, Any]:
    new: dict[str, Any] = {}
    for name, treatment in entry.personal.items():
        if name not in row:
            continue
        value = row[name]
        if treatment == Treatment.REDACT_JSON:
            new[name] = redact_json(value, subject, pseudonyms)
        elif treatment == Treatment.NULL:
            new[name] = None if value is None else ""
        elif isinstance(value, str):
            new[name] = redact_text(value, subject, pseudonyms)
    return {name: value for name, value in new.items() if value != row[name]}


def _erase_requests(db: Session, subject: Subject, scope: int | None, pseudonyms: Pseudonymizer) -> int:
    """Requests about the person: their export files deleted, their identifiers pseudonymised."""
    table = ComplianceRequest.__table__  # type: ignore[attr-defined]
    entry = REGISTRY["compliance_request"]
    query = select(ComplianceRequest).where(subject.matches(table, entry))
    if scope is not None:
        query = query.where(col(ComplianceRequest.organization_id) == scope)
    changed = 0
    for request in db.scalars(query).all():
        if request.file_path:
            Path(request.file_path).unlink(missing_ok=True)
            request.file_path = ""
        if request.subject_email and not request.subject_email.endswith(ERASED_EMAIL_DOMAIN):
            request.subject_email = pseudonyms.email(request.subject_email)
        request.subject_identities = [redact_text(i, subject, pseudonyms) for i in request.subject_identities]
        db.add(request)
        changed += 1
    db.flush()
    return changed


def _tombstone(db: Session, user_id: int, pseudonyms: Pseudonymizer) -> int:
    """The account keeps its id and loses everything that identified the person."""
    user = db.get(User, user_id)
    if user is None or user.password_hash == ERASED_PASSWORD:
        return 0
    user.email = pseudonyms.email(user.email)
    user.name = account_pseudonym(pseudonyms, user_id)
    user.password_hash = ERASED_PASSWORD
    user.is_active = False
    db.add(user)
    db.flush()
    return 1
