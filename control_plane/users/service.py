"""Sign-up, profile and deactivation."""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from control_plane.audit.service import record, snapshot
from control_plane.auth.models import UserSession
from control_plane.auth.passwords import hash_password, verify_password
from control_plane.domain_errors import Conflict, Forbidden, NotFound
from control_plane.organizations.models import Membership
from control_plane.principals import AuditContext
from control_plane.users.models import User
from control_plane.users.schemas import MembershipRead, Profile, ProfileUpdate, SignUp, UserRead


def sign_up(db: Session, data: SignUp, context: AuditContext) -> User:
    if db.exec(select(User.id).where(User.email == data.email)).first() is not None:
        raise Conflict(f"an account with e-mail {data.email} already exists")
    user = User(email=data.email, name=data.name, password_hash=hash_password(data.password))
    db.add(user)
    db.flush()
    record(db, context, None, "user.signup", user, after=snapshot(user))
    db.commit()
    return user


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def profile(db: Session, user: User) -> Profile:
    memberships = db.exec(select(Membership).where(Membership.user_id == user.id).order_by(col(Membership.id))).all()
    return Profile(
        **UserRead.model_validate(user).model_dump(),
        memberships=[MembershipRead.model_validate(m) for m in memberships],
    )


def update_profile(db: Session, user: User, data: ProfileUpdate, context: AuditContext) -> User:
    before = snapshot(user)
    if data.password is not None:
        if not verify_password(user.password_hash, data.current_password or ""):
            raise Forbidden("current_password is wrong")
        user.password_hash = hash_password(data.password)
    if data.name is not None:
        user.name = data.name
    db.add(user)
    changed = ["password"] if data.password is not None else []
    record(db, context, None, "user.update", user, before=before, after=(snapshot(user) or {}) | {"changed": changed})
    db.commit()
    return user


def deactivate(db: Session, user: User, password: str, context: AuditContext) -> None:
    if not verify_password(user.password_hash, password):
        raise Forbidden("password is wrong")
    before = snapshot(user)
    user.is_active = False
    db.add(user)
    db.exec(delete(UserSession).where(col(UserSession.user_id) == user.id))
    record(db, context, None, "user.deactivate", user, before=before, after=snapshot(user))
    db.commit()
