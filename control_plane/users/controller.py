"""``/users``: sign up, see and change one's profile, deactivate."""

from __future__ import annotations

from litestar import Controller
from litestar.params import JSONBody

from control_plane.auth.guards import signed_in_user
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.routing import PUBLIC, Db, get, patch, post
from control_plane.users import service
from control_plane.users.models import User
from control_plane.users.schemas import Deactivate, Profile, ProfileUpdate, SignUp, UserRead


class UserController(Controller):
    path = "/users"
    tags = ("users",)

    @post("/", opt=PUBLIC, summary="Create an account")
    def sign_up(self, db: Db, data: JSONBody[SignUp], request: AnyRequest) -> UserRead:
        return UserRead.model_validate(service.sign_up(db, data, audit_context(request)))

    @get("/me", guards=[signed_in_user], summary="The signed-in user's profile and memberships")
    def me(self, db: Db, request: AnyRequest) -> Profile:
        return service.profile(db, _me(db, request))

    @patch("/me", guards=[signed_in_user], summary="Change name or password")
    def update_me(self, db: Db, data: JSONBody[ProfileUpdate], request: AnyRequest) -> UserRead:
        user = service.update_profile(db, _me(db, request), data, audit_context(request))
        return UserRead.model_validate(user)

    @post("/me/deactivate", guards=[signed_in_user], status_code=204, summary="Deactivate the account")
    def deactivate(self, db: Db, data: JSONBody[Deactivate], request: AnyRequest) -> None:
        service.deactivate(db, _me(db, request), data.password, audit_context(request))


def _me(db: Db, request: AnyRequest) -> User:
    user_id = principal_of(request).user_id
    assert user_id is not None  # the guard let only users through
    return service.get_user(db, user_id)
