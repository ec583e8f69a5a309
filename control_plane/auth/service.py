"""Sessions and API keys in, principals out."""

from __future__ import annotations

import datetime as dt
import hmac

from sqlmodel import Session, col, select

from control_plane.api_keys.models import ApiKey
from control_plane.auth.models import UserSession
from control_plane.auth.permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS, Permission, Role, Scope
from control_plane.db.types import utcnow
from control_plane.organizations.models import Membership
from control_plane.principals import Principal
from control_plane.tokens import digest, new_secret
from control_plane.users.models import User

SESSION_COOKIE = "auralink_session"
API_KEY_PREFIX_LENGTH = 12
_LAST_USE_RESOLUTION = dt.timedelta(seconds=60)


def open_session(
    db: Session, user: User, organization_id: int | None, ttl_s: int, ip: str, user_agent: str
) -> tuple[str, UserSession]:
    """A new login session; returns the cookie value (kept nowhere) and the stored row."""
    assert user.id is not None
    token = new_secret()
    row = UserSession(
        token_hash=digest(token),
        user_id=user.id,
        organization_id=organization_id,
        ip=ip,
        user_agent=user_agent,
        expires_at=utcnow() + dt.timedelta(seconds=ttl_s),
    )
    db.add(row)
    return token, row


def first_organization(db: Session, user_id: int) -> int | None:
    return db.exec(
        select(Membership.organization_id).where(Membership.user_id == user_id).order_by(col(Membership.id))
    ).first()


def roles_of(db: Session, user_id: int) -> dict[int, Role]:
    rows = db.exec(select(Membership.organization_id, Membership.role).where(Membership.user_id == user_id))
    return {organization_id: Role(role) for organization_id, role in rows}


def session_principal(db: Session, token: str) -> Principal | None:
    row = db.exec(select(UserSession).where(UserSession.token_hash == digest(token))).first()
    if row is None or row.expires_at <= utcnow():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    roles = roles_of(db, row.user_id)
    organization_id = row.organization_id if row.organization_id in roles else next(iter(roles), None)
    return Principal(user_id=row.user_id, organization_id=organization_id, roles=roles)


def find_api_key(db: Session, key: str) -> ApiKey | None:
    """The live key ``key`` names: known prefix, matching hash, not revoked, not expired."""
    row = db.exec(select(ApiKey).where(ApiKey.prefix == key[:API_KEY_PREFIX_LENGTH])).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest(key)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    return row


def key_principal(db: Session, key: ApiKey) -> Principal:
    """The key's principal; its permissions are its scopes', never more than its creator's role allows now."""
    assert key.id is not None
    permissions = frozenset[Permission]().union(*(SCOPE_PERMISSIONS[Scope(scope)] for scope in key.scopes))
    if key.created_by is not None and Scope.TELEMETRY.value not in key.scopes:
        creator_role = roles_of(db, key.created_by).get(key.organization_id)
        permissions &= ROLE_PERMISSIONS[creator_role] if creator_role else frozenset()
    return Principal(user_id=None, organization_id=key.organization_id, api_key_id=key.id, key_permissions=permissions)


def note_key_use(db: Session, key: ApiKey) -> None:
    """Record the key's last use, at most once a minute (so reads stay reads)."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USE_RESOLUTION:
        key.last_used_at = now
        db.add(key)
        db.commit()
