from __future__ import annotations

import datetime as dt

from control_plane.schemas import Email, Input, Name, Output, Password


class SignUp(Input):
    email: Email
    name: Name
    password: Password


class ProfileUpdate(Input):
    name: Name | None = None
    password: Password | None = None
    current_password: str | None = None
    """Needed to change the password."""


class Deactivate(Input):
    password: str


class MembershipRead(Output):
    organization_id: int
    role: str


class UserRead(Output):
    id: int
    email: str
    name: str
    is_active: bool
    created_at: dt.datetime


class Profile(UserRead):
    memberships: list[MembershipRead]
