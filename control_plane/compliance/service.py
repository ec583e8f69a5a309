"""Compliance requests: making, listing, cancelling, downloading (the jobs carry them out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from control_plane.audit.service import record, snapshot
from control_plane.auth.passwords import verify_password
from control_plane.auth.permissions import Role, can_grant
from control_plane.compliance import sealed_files
from control_plane.compliance.holds import check_erasable, memberships_of
from control_plane.compliance.models import ComplianceRequest, RequestKind, RequestStatus
from control_plane.compliance.schemas import ErasureCreate, ExportCreate, RequestRead
from control_plane.compliance.subjects import user_identities
from control_plane.db.types import utcnow
from control_plane.domain_errors import Conflict, Forbidden, Gone, InvalidInput, NotFound, Unauthenticated
from control_plane.organizations.models import Membership
from control_plane.organizations.service import find_membership
from control_plane.principals import AuditContext, Tenant
from control_plane.secrets.store import SecretStore
from control_plane.users.models import User


def read(request: ComplianceRequest, *, own: bool = False) -> RequestRead:
    """The API's view, with the download link of a finished export."""
    out = RequestRead.model_validate(request)
    if request.kind == RequestKind.EXPORT and request.status == RequestStatus.COMPLETED:
        out.download_url = f"/compliance/{'me/' if own else ''}requests/{request.id}/download"
    return out


def request_export(db: Session, tenant: Tenant, data: ExportCreate) -> ComplianceRequest:
    """An export of the organisation, or of one of its members."""
    if data.user_id is not None:
        find_membership(db, tenant.organization_id, data.user_id)
    row = ComplianceRequest(
        organization_id=tenant.organization_id,
        kind=RequestKind.EXPORT,
        scope=data.scope,
        export_format=data.format,
        subject_user_id=data.user_id,
        subject_identities=sorted(set(data.participant_identities)),
        requested_by=tenant.principal.user_id,
    )
    return _store(db, tenant.audit, row)


def request_own_export(db: Session, user_id: int, export_format: str, context: AuditContext) -> ComplianceRequest:
    """A person's export of everything held about them, in every organisation."""
    row = ComplianceRequest(
        kind=RequestKind.EXPORT,
        scope="user",
        export_format=export_format,
        subject_user_id=user_id,
        requested_by=user_id,
    )
    return _store(db, context, row)


def request_erasure(db: Session, tenant: Tenant, data: ErasureCreate) -> ComplianceRequest:
    """An erasure of a person's data in the organisation (refused with 409 under a legal hold)."""
    user = _subject_user(db, tenant, data)
    if user is not None and user.id is not None:
        membership = db.exec(
            select(Membership).where(
                Membership.organization_id == tenant.organization_id, Membership.user_id == user.id
            )
        ).first()
        if membership is not None:
            _may_erase(tenant, Role(membership.role))
    check_erasable(db, [tenant.organization_id], user.id if user else None)
    identities = set(data.participant_identities)
    if user is not None and user.id is not None:
        identities -= user_identities(user.id, user.email)  # derived again when the job runs
    row = ComplianceRequest(
        organization_id=tenant.organization_id,
        kind=RequestKind.ERASURE,
        scope="user",
        subject_user_id=user.id if user else None,
        subject_email=user.email if user else (data.email or ""),
        subject_identities=sorted(identities),
        requested_by=tenant.principal.user_id,
    )
    return _store(db, tenant.audit, row)


def request_own_erasure(db: Session, user_id: int, password: str, context: AuditContext) -> ComplianceRequest:
    """A person's erasure of themselves, everywhere (the password confirms it)."""
    user = db.get(User, user_id)
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthenticated("wrong password")
    check_erasable(db, memberships_of(db, user_id), user_id)
    row = ComplianceRequest(
        kind=RequestKind.ERASURE, scope="user", subject_user_id=user_id, subject_email=user.email, requested_by=user_id
    )
    return _store(db, context, row)


def _subject_user(db: Session, tenant: Tenant, data: ErasureCreate) -> User | None:
    if data.user_id is not None:
        user = db.get(User, data.user_id)
        if user is None or not _is_member(db, tenant.organization_id, data.user_id):
            raise NotFound(f"user {data.user_id} is not a member of organisation {tenant.organization_id}")
        if data.email is not None and data.email != user.email:
            raise InvalidInput(f"user {data.user_id} does not have the e-mail address {data.email}")
        return user
    user = db.exec(select(User).where(User.email == data.email)).first() if data.email else None
    if user is not None and user.id is not None and _is_member(db, tenant.organization_id, user.id):
        return user
    return None  # someone with no account here: their e-mail and identities are still erased


def _is_member(db: Session, organization_id: int, user_id: int) -> bool:
    return user_id in set(
        db.exec(select(Membership.user_id).where(Membership.organization_id == organization_id)).all()
    )


def _may_erase(tenant: Tenant, role: Role) -> None:
    granter = Role.ADMIN if tenant.principal.user_id is None else tenant.principal.roles.get(tenant.organization_id)
    if granter is None or not can_grant(granter, role):
        raise Forbidden(f"a {granter} cannot erase a {role}")


def _store(db: Session, context: AuditContext, row: ComplianceRequest) -> ComplianceRequest:
    db.add(row)
    db.flush()
    record(db, context, row.organization_id, f"compliance.{row.kind}.request", row, after=snapshot(row))
    db.commit()
    return row


def of_organization(
    db: Session, organization_id: int, kind: str | None, status: str | None, limit: int, offset: int
) -> Sequence[ComplianceRequest]:
    query = select(ComplianceRequest).where(ComplianceRequest.organization_id == organization_id)
    if kind:
        query = query.where(ComplianceRequest.kind == kind)
    if status:
        query = query.where(ComplianceRequest.status == status)
    return db.exec(query.order_by(col(ComplianceRequest.id).desc()).offset(offset).limit(limit)).all()


def of_user(db: Session, user_id: int) -> Sequence[ComplianceRequest]:
    """A person's own requests (the ones about themselves, made outside any organisation)."""
    query = select(ComplianceRequest).where(
        col(ComplianceRequest.organization_id).is_(None), ComplianceRequest.requested_by == user_id
    )
    return db.exec(query.order_by(col(ComplianceRequest.id).desc())).all()


def get(db: Session, request_id: int, organization_id: int | None, user_id: int | None = None) -> ComplianceRequest:
    """The request in the organisation (or, with ``organization_id`` None, the user's own); 404 otherwise."""
    row = db.get(ComplianceRequest, request_id)
    mine = row is not None and (
        row.organization_id == organization_id
        if organization_id is not None
        else row.organization_id is None and row.requested_by == user_id
    )
    if row is None or not mine:
        raise NotFound(f"compliance request {request_id} not found")
    return row


def cancel(db: Session, row: ComplianceRequest, context: AuditContext) -> ComplianceRequest:
    """Cancel a pending request (409 once it has started)."""
    cancelled = db.execute(
        update(ComplianceRequest)
        .where(col(ComplianceRequest.id) == row.id, col(ComplianceRequest.status) == RequestStatus.PENDING)
        .values(status=RequestStatus.CANCELLED, finished_at=utcnow())
    )
    db.refresh(row)
    if cancelled.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"request {row.id} is {row.status}: only a pending request can be cancelled")
    record(db, context, row.organization_id, f"compliance.{row.kind}.cancel", row, after=snapshot(row))
    db.commit()
    return row


def download(
    db: Session, store: SecretStore, row: ComplianceRequest, context: AuditContext, now: dt.datetime | None = None
) -> bytes:
    """The export's content, decrypted, if its link still works (410 Gone once expired); audited."""
    if row.kind != RequestKind.EXPORT:
        raise NotFound(f"request {row.id} is an {row.kind}, which has no download")
    if row.status != RequestStatus.COMPLETED:
        raise Conflict(f"export {row.id} is {row.status}; it can be downloaded once completed")
    moment = now or utcnow()
    if row.expires_at is not None and row.expires_at <= moment:
        raise Gone(
            f"the download link of export {row.id} expired on {row.expires_at:%Y-%m-%d %H:%M} UTC; request a new export"
        )
    path = Path(row.file_path) if row.file_path else None
    if path is None or not path.is_file():
        raise Gone(f"the file of export {row.id} is no longer kept; request a new export")
    assert row.id is not None
    content = sealed_files.unseal(store, row.id, path.read_bytes(), row.file_key)
    record(db, context, row.organization_id, "compliance.export.download", row, after={"id": row.id})
    db.commit()
    return content
