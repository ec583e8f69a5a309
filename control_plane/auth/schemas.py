from __future__ import annotations

from control_plane.schemas import DbId, Email, Input, Output
from control_plane.users.schemas import UserRead


class Login(Input):
    email: Email
    password: str
    organization_id: DbId | None = None
    """The organisation to act in (default: the first one joined)."""


class SwitchOrganization(Input):
    organization_id: DbId


class LoginResult(Output):
    user: UserRead
    organization_id: int | None
