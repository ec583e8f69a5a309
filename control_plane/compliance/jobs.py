"""Running requests as jobs: claim (pending → processing), carry out, finish (completed | failed).

A request is claimed with one conditional UPDATE, so the API's background run and the scheduled job
never both run it; a finished request is never run again (idempotent). The scheduled job also deletes
expired export files and enforces the retention policies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from control_plane.audit.service import record
from control_plane.compliance import erasure, exports, retention, sealed_files
from control_plane.compliance.models import ComplianceRequest, RequestKind, RequestStatus
from control_plane.compliance.pseudonyms import Pseudonymizer, pseudonym_secret
from control_plane.compliance.subjects import subject_of
from control_plane.db.types import utcnow
from control_plane.domain_errors import ControlPlaneError
from control_plane.principals import AuditContext
from control_plane.secrets.errors import SecretStoreError
from control_plane.state import AppState

log = structlog.get_logger(__name__)

STALE_AFTER = dt.timedelta(hours=1)
"""A request still ``processing`` this long after it started was interrupted (its work was rolled back)."""
JOB_CONTEXT = AuditContext(None, None, "", "compliance job", "")
"""The audit actor of what the job does on its own (the request's creation names the person who asked)."""


def claim(db: Session, request_id: int) -> bool:
    """Move a pending request to processing; ``False`` if someone else did, or it is not pending."""
    statement = (
        update(ComplianceRequest)
        .where(col(ComplianceRequest.id) == request_id, col(ComplianceRequest.status) == RequestStatus.PENDING)
        .values(status=RequestStatus.PROCESSING, started_at=utcnow())
    )
    claimed = bool(db.execute(statement).rowcount == 1)  # type: ignore[attr-defined]
    db.commit()
    return claimed


def run_request(state: AppState, request_id: int) -> str:
    """Run one request if it is still pending; returns its status afterwards."""
    with state.session() as db:
        if not claim(db, request_id):
            found = db.get(ComplianceRequest, request_id)
            return found.status if found else "missing"
        request = db.get(ComplianceRequest, request_id)
        assert request is not None
        db.refresh(request)
        try:
            _carry_out(db, state, request)
        except RedisError:
            db.rollback()
            _requeue(db, request_id)
            raise
        except (SQLAlchemyError, OSError, ControlPlaneError, ValueError, SecretStoreError) as error:
            db.rollback()
            _fail(db, request_id, _message(error))
            return RequestStatus.FAILED
        return RequestStatus.COMPLETED


def _carry_out(db: Session, state: AppState, request: ComplianceRequest) -> None:
    identities: frozenset[str] = frozenset()
    if request.kind == RequestKind.EXPORT:
        content = exports.render(request, tables := exports.collect(db, request))
        db.commit()  # ends this read: the local keystore may write its first key through a connection of its own
        assert request.id is not None
        sealed, request.file_key = sealed_files.seal(state.secrets, request.id, content)
        path = exports.write(state.settings.data_dir, request, sealed)
        request.file_path, request.file_bytes = str(path), len(content)
        request.summary = {name: len(rows) for name, rows in tables.items() if rows}
        request.expires_at = utcnow() + dt.timedelta(days=state.settings.compliance_export_ttl_days)
    else:
        subject = subject_of(db, request)
        identities = subject.strings()
        pseudonyms = Pseudonymizer(pseudonym_secret(state.settings))
        request.summary = erasure.erase(db, request, subject, pseudonyms)
    request.status, request.finished_at = RequestStatus.COMPLETED, utcnow()
    db.add(request)
    after = {"id": request.id, "kind": request.kind, "status": request.status, "summary": request.summary}
    record(db, JOB_CONTEXT, request.organization_id, f"compliance.{request.kind}.complete", request, after=after)
    if identities:
        # before the commit: an erasure that cannot reach the live metrics (Redis) is rolled back and runs
        # again, rather than completed with the person still shown live
        state.realtime.forget(identities)
        state.live.forget(identities)
    db.commit()


def _requeue(db: Session, request_id: int) -> None:
    db.execute(
        update(ComplianceRequest).where(col(ComplianceRequest.id) == request_id).values(status=RequestStatus.PENDING)
    )
    db.commit()
    log.warning("compliance request rolled back: the live metrics store is unreachable", request_id=request_id)


def _fail(db: Session, request_id: int, message: str) -> None:
    request = db.get(ComplianceRequest, request_id)
    if request is None:
        return
    request.status, request.error, request.finished_at = RequestStatus.FAILED, message[:2000], utcnow()
    db.add(request)
    after = {"id": request.id, "kind": request.kind, "status": request.status, "error": request.error}
    record(db, JOB_CONTEXT, request.organization_id, f"compliance.{request.kind}.fail", request, after=after)
    db.commit()
    log.warning("compliance request failed", request_id=request_id, error=message[:200])


def _message(error: Exception) -> str:
    if isinstance(error, ControlPlaneError):
        return error.message
    if isinstance(error, SQLAlchemyError):
        return "database error: " + str(getattr(error, "orig", error)).splitlines()[0][:300]
    return f"{type(error).__name__}: {error}"


def requeue_interrupted(db: Session, organization_id: int | None = None) -> int:
    """Put requests that a crash left ``processing`` back to ``pending`` (running one again is harmless)."""
    statement = update(ComplianceRequest).where(
        col(ComplianceRequest.status) == RequestStatus.PROCESSING,
        col(ComplianceRequest.started_at) < utcnow() - STALE_AFTER,
    )
    if organization_id is not None:
        statement = statement.where(col(ComplianceRequest.organization_id) == organization_id)
    requeued = int(db.execute(statement.values(status=RequestStatus.PENDING)).rowcount)  # type: ignore[attr-defined]
    db.commit()
    return requeued


def run_pending(state: AppState, organization_id: int | None = None) -> int:
    """Run every pending request (of one organisation, or all), oldest first; returns how many ran."""
    with state.session() as db:
        requeue_interrupted(db, organization_id)
        query = select(ComplianceRequest.id).where(ComplianceRequest.status == RequestStatus.PENDING)
        if organization_id is not None:
            query = query.where(ComplianceRequest.organization_id == organization_id)
        pending = db.exec(query.order_by(col(ComplianceRequest.id))).all()
    return sum(1 for request_id in pending if request_id is not None and run_request(state, request_id) != "missing")


def expire_exports(state: AppState, organization_id: int | None = None) -> int:
    """Delete the files of exports whose link has expired; returns how many."""
    with state.session() as db:
        query = select(ComplianceRequest).where(
            ComplianceRequest.kind == RequestKind.EXPORT,
            col(ComplianceRequest.expires_at) <= utcnow(),
            ComplianceRequest.file_path != "",
        )
        if organization_id is not None:
            query = query.where(ComplianceRequest.organization_id == organization_id)
        expired = db.exec(query).all()
        for request in expired:
            exports.delete_file(request)
            db.add(request)
            record(
                db, JOB_CONTEXT, request.organization_id, "compliance.export.expire", request, after={"id": request.id}
            )
        db.commit()
        return len(expired)


def compliance_job(state: AppState, organization_id: int | None = None) -> dict[str, Any]:
    """The scheduled job: pending requests, expired exports, retention (of one organisation, or all)."""
    ran = run_pending(state, organization_id)
    expired = expire_exports(state, organization_id)
    with state.session() as db:
        deleted = retention.enforce_all(db, organization_id=organization_id)
    return {"requests": ran, "expired_exports": expired, "retention_deleted": deleted}
