"""Rotating, re-wrapping and retiring an organisation's keys in the secret store, each audited."""

from __future__ import annotations

from sqlmodel import Session

from control_plane.audit.service import record
from control_plane.principals import Tenant
from control_plane.secrets.schemas import KeyVersions, Rewrapped, Rotated
from control_plane.secrets.store import SecretStore, organization_scope


def key_versions(store: SecretStore, organization_id: int) -> KeyVersions:
    status = store.key_status(organization_scope(organization_id))
    return KeyVersions(
        backend=store.backend,
        scope=status.scope,
        current_version=status.current_version,
        versions=status.versions,
        min_decryption_version=status.min_decryption_version,
        secrets_by_version=status.secrets_by_version,
        wrapped_by_previous_master_key=status.wrapped_by_previous_master_key,
    )


def rotate(db: Session, store: SecretStore, tenant: Tenant) -> Rotated:
    scope = organization_scope(tenant.organization_id)
    version = store.rotate(scope)
    _audit(db, tenant, "secrets.rotate", scope, {"current_version": version})
    return Rotated(backend=store.backend, scope=scope, current_version=version)


def rewrap(db: Session, store: SecretStore, tenant: Tenant) -> Rewrapped:
    scope = organization_scope(tenant.organization_id)
    moved = store.rewrap(scope)
    current = store.key_status(scope).current_version
    _audit(db, tenant, "secrets.rewrap", scope, {"current_version": current, "moved": moved})
    return Rewrapped(backend=store.backend, scope=scope, current_version=current, moved=moved)


def retire(db: Session, store: SecretStore, tenant: Tenant, version: int) -> KeyVersions:
    scope = organization_scope(tenant.organization_id)
    store.retire(scope, version)
    _audit(db, tenant, "secrets.retire", scope, {"retired_up_to": version})
    return key_versions(store, tenant.organization_id)


def _audit(db: Session, tenant: Tenant, action: str, scope: str, after: dict[str, object]) -> None:
    record(db, tenant.audit, tenant.organization_id, action, resource_type="secret_key", resource_id=scope, after=after)
    db.commit()
