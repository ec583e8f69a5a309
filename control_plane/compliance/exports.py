"""Data exports: everything held about a person or an organisation, as JSON or as a zip of CSV files.

What to read comes from the personal-data registry (:mod:`control_plane.compliance.personal_data`),
so a registered table is exported without further code; secret columns (hashes) never are.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, select
from sqlmodel import Session, col

from control_plane.audit.models import AuditEntry
from control_plane.compliance import audit_trail
from control_plane.compliance.models import ComplianceRequest, ExportFormat
from control_plane.compliance.personal_data import REGISTRY, PersonalTable
from control_plane.compliance.subjects import Subject, subject_of
from control_plane.csv_export import to_csv
from control_plane.db.tables import metadata
from control_plane.organizations.models import Membership

Tables = dict[str, list[dict[str, Any]]]
EXPORTS_DIR = Path("compliance") / "exports"


def collect(db: Session, request: ComplianceRequest) -> Tables:
    """The rows the request covers, by table (every registered table appears, maybe empty)."""
    if request.scope == "organization":
        assert request.organization_id is not None
        return {
            name: _rows(db, table, _of_organization(table, entry, request.organization_id))
            for name, table, entry in _tables()
        }
    subject = subject_of(db, request)
    return {
        name: _rows(db, table, _about_person(table, entry, subject, request.organization_id))
        for name, table, entry in _tables()
    }


def _tables() -> list[tuple[str, Table, PersonalTable]]:
    return [(name, metadata.tables[name], REGISTRY[name]) for name in sorted(REGISTRY) if name in metadata.tables]


def _of_organization(table: Table, entry: PersonalTable, organization_id: int) -> ColumnElement[bool] | None:
    if entry.organization_column is not None:
        return table.c[entry.organization_column] == organization_id
    if table.name == "user":
        members = select(col(Membership.user_id)).where(col(Membership.organization_id) == organization_id)
        return table.c.id.in_(members)
    if table.name == "audit_redaction":
        entries = select(col(AuditEntry.id)).where(col(AuditEntry.organization_id) == organization_id)
        return table.c.entry_id.in_(entries)
    return None


def _about_person(
    table: Table, entry: PersonalTable, subject: Subject, organization_id: int | None
) -> ColumnElement[bool] | None:
    if table.name == "audit_entry":
        about = audit_trail.about(subject)
    elif entry.subject:
        about = subject.matches(table, entry)
    else:
        return None
    if organization_id is not None and entry.organization_column is not None:
        return about & (table.c[entry.organization_column] == organization_id)
    return about


def _rows(db: Session, table: Table, where: ColumnElement[bool] | None) -> list[dict[str, Any]]:
    if where is None:
        return []
    secret = REGISTRY[table.name].secret
    columns = [c for c in table.columns if c.name not in secret]
    key = next(iter(table.primary_key.columns))
    result = db.execute(select(*columns).where(where).order_by(key))
    return [{name: _plain(value) for name, value in row._mapping.items()} for row in result]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def manifest(request: ComplianceRequest, tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "request_id": request.id,
        "scope": request.scope,
        "organization_id": request.organization_id,
        "subject_user_id": request.subject_user_id,
        "format": request.export_format,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "rows": {name: len(rows) for name, rows in tables.items()},
        "omitted": "password, API-key, session and invitation hashes are never exported",
    }


def render(request: ComplianceRequest, tables: Tables) -> bytes:
    """The file's bytes: one JSON document, or a zip with ``manifest.json`` and one CSV per table."""
    head = manifest(request, tables)
    if request.export_format == ExportFormat.JSON:
        return json.dumps({"manifest": head, "tables": tables}, indent=1, default=str).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(head, indent=1))
        for name, rows in tables.items():
            archive.writestr(f"{name}.csv", _csv(name, rows))
    return out.getvalue()


def _csv(name: str, rows: list[dict[str, Any]]) -> str:
    secret = REGISTRY[name].secret
    columns = [c.name for c in metadata.tables[name].columns if c.name not in secret]
    flat = ({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()} for row in rows)
    return to_csv(flat, columns)


def write(data_dir: Path, request: ComplianceRequest, content: bytes) -> Path:
    """Store the (sealed) file under ``data_dir``, readable by this user only, and return its path."""
    directory = data_dir / EXPORTS_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"export-{request.id}-{secrets.token_hex(8)}.sealed"
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    partial.replace(path)
    return path


def download_name(request: ComplianceRequest) -> tuple[str, str]:
    """The file name and media type a download of ``request`` is offered as."""
    if request.export_format == ExportFormat.JSON:
        return f"auralink-export-{request.id}.json", "application/json"
    return f"auralink-export-{request.id}.zip", "application/zip"


def delete_file(request: ComplianceRequest) -> None:
    if request.file_path:
        Path(request.file_path).unlink(missing_ok=True)
    request.file_path = request.file_key = ""
