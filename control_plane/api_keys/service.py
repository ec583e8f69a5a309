"""Creating, listing and revoking API keys."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlmodel import Session, col, select

from control_plane.api_keys.models import ApiKey
from control_plane.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from control_plane.audit.service import record, snapshot
from control_plane.auth.permissions import ROLE_RANK, SCOPE_MINIMUM_ROLE, Role
from control_plane.auth.service import API_KEY_PREFIX_LENGTH
from control_plane.db.types import utcnow
from control_plane.domain_errors import Forbidden, InvalidInput
from control_plane.principals import Tenant
from control_plane.tenancy import owned
from control_plane.tokens import digest, new_secret


def create(db: Session, tenant: Tenant, data: ApiKeyCreate, default_rate: int) -> ApiKeyCreated:
    creator_role = Role.ADMIN if tenant.principal.user_id is None else tenant.principal.roles[tenant.organization_id]
    for scope in data.scopes:
        if ROLE_RANK[creator_role] < ROLE_RANK[SCOPE_MINIMUM_ROLE[scope]]:
            raise Forbidden(f"a {creator_role} cannot create a key with the '{scope}' scope")
    if data.expires_at is not None and _aware(data.expires_at) <= utcnow():
        raise InvalidInput("expires_at must be in the future")
    prefix = "alk_" + secrets.token_hex((API_KEY_PREFIX_LENGTH - 4) // 2)
    key = f"{prefix}_{new_secret()}"
    row = ApiKey(
        organization_id=tenant.organization_id,
        name=data.name,
        prefix=prefix,
        key_hash=digest(key),
        scopes=sorted({scope.value for scope in data.scopes}),
        requests_per_minute=data.requests_per_minute or default_rate,
        created_by=tenant.principal.user_id,
        expires_at=_aware(data.expires_at) if data.expires_at else None,
    )
    db.add(row)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "api_key.create", row, after=snapshot(row))
    db.commit()
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=key)


def of_organization(db: Session, organization_id: int) -> Sequence[ApiKey]:
    return db.exec(select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(col(ApiKey.id))).all()


def revoke(db: Session, tenant: Tenant, key_id: int) -> None:
    row = owned(db, ApiKey, key_id, tenant.organization_id, "API key")
    before = snapshot(row)
    row.revoked_at = row.revoked_at or utcnow()
    db.add(row)
    record(db, tenant.audit, tenant.organization_id, "api_key.revoke", row, before=before, after=snapshot(row))
    db.commit()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
