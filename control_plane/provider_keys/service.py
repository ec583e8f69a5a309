"""Creating, listing, rotating, revoking and (server-side only) revealing provider keys, each audited.

The key goes to the secret store before its row is written, and the store is cleaned up if the row is not, so
the database never holds a key and never points at a key the store lacks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from sqlmodel import Session, col, select

from control_plane.audit.service import record, snapshot
from control_plane.db.types import utcnow
from control_plane.domain_errors import Conflict, NotFound
from control_plane.principals import AuditContext, Tenant
from control_plane.provider_keys.masking import mask
from control_plane.provider_keys.models import ProviderKey
from control_plane.provider_keys.schemas import ProviderKeyCreate, ProviderKeyRotate
from control_plane.secrets.store import SecretStore, organization_scope
from control_plane.tenancy import owned

log = structlog.get_logger(__name__)

SERVER_SIDE = AuditContext(actor_user_id=None, actor_api_key_id=None, ip="", user_agent="server", request_id="")
"""Who reveals a key: the control plane itself, never a caller."""


def create(db: Session, store: SecretStore, tenant: Tenant, data: ProviderKeyCreate) -> ProviderKey:
    if _named(db, tenant.organization_id, data.name) is not None:
        raise Conflict(f"a provider key named '{data.name}' already exists (revoked keys keep their names)")
    scope, ref = organization_scope(tenant.organization_id), f"provider-keys/{uuid.uuid4().hex}"
    value = data.key.get_secret_value()
    version = store.put(scope, ref, value)
    row = ProviderKey(
        organization_id=tenant.organization_id,
        provider=data.provider.value,
        name=data.name,
        masked=mask(value),
        secret_ref=ref,
        backend=store.backend,
        version=version,
        created_by=tenant.principal.user_id,
    )
    try:
        db.add(row)
        db.flush()
        record(db, tenant.audit, tenant.organization_id, "provider_key.create", row, after=snapshot(row))
        db.commit()
    except Exception:
        db.rollback()
        store.destroy(scope, ref)
        raise
    _log("provider key created", row)
    return row


def of_organization(db: Session, organization_id: int) -> Sequence[ProviderKey]:
    query = select(ProviderKey).where(ProviderKey.organization_id == organization_id)
    return db.exec(query.order_by(col(ProviderKey.id))).all()


def get(db: Session, organization_id: int, key_id: int) -> ProviderKey:
    return owned(db, ProviderKey, key_id, organization_id, "provider key")


def rotate(db: Session, store: SecretStore, tenant: Tenant, key_id: int, data: ProviderKeyRotate) -> ProviderKey:
    row = get(db, tenant.organization_id, key_id)
    if row.revoked_at is not None:
        raise Conflict(f"provider key {key_id} is revoked; create a new one instead")
    _same_backend(row, store)
    before = snapshot(row)
    value = data.key.get_secret_value()
    row.version = store.put(organization_scope(row.organization_id), row.secret_ref, value)
    row.masked, row.rotated_at = mask(value), utcnow()
    db.add(row)
    record(db, tenant.audit, tenant.organization_id, "provider_key.rotate", row, before=before, after=snapshot(row))
    db.commit()
    _log("provider key rotated", row)
    return row


def revoke(db: Session, store: SecretStore, tenant: Tenant, key_id: int) -> ProviderKey:
    """Destroy every version in the store, then mark the row revoked (a store outage changes nothing)."""
    row = get(db, tenant.organization_id, key_id)
    if row.revoked_at is not None:
        return row
    _same_backend(row, store)
    before = snapshot(row)
    store.destroy(organization_scope(row.organization_id), row.secret_ref)
    row.revoked_at = utcnow()
    db.add(row)
    record(db, tenant.audit, tenant.organization_id, "provider_key.revoke", row, before=before, after=snapshot(row))
    db.commit()
    _log("provider key revoked", row)
    return row


def reveal(db: Session, store: SecretStore, organization_id: int, name: str, purpose: str) -> str:
    """The whole key named ``name``, for the server's own use (e.g. a stage calling the provider); audited.

    Never exposed over HTTP. Raises ``NotFound`` for a missing or revoked key.
    """
    row = _named(db, organization_id, name)
    if row is None or row.revoked_at is not None:
        raise NotFound(f"no active provider key named '{name}' in organisation {organization_id}")
    _same_backend(row, store)
    value = store.get(organization_scope(organization_id), row.secret_ref, row.version)
    record(db, SERVER_SIDE, organization_id, "provider_key.reveal", row, after={"purpose": purpose[:200]})
    db.commit()
    _log("provider key revealed", row, purpose=purpose[:200])
    return value


def _log(event: str, row: ProviderKey, **extra: str) -> None:
    """Only the masked form is ever logged."""
    log.info(
        event,
        organization_id=row.organization_id,
        key_id=row.id,
        provider=row.provider,
        name=row.name,
        masked=row.masked,
        version=row.version,
        **extra,
    )


def _named(db: Session, organization_id: int, name: str) -> ProviderKey | None:
    query = select(ProviderKey).where(ProviderKey.organization_id == organization_id, ProviderKey.name == name)
    return db.exec(query).first()


def _same_backend(row: ProviderKey, store: SecretStore) -> None:
    if row.backend != store.backend:
        raise Conflict(
            f"provider key {row.id} is kept in the {row.backend} secret backend, but this server uses"
            f" {store.backend}: move it, or switch secret_backend back"
        )
