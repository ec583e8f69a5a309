"""``/secrets/keys``: the acting organisation's key versions; rotate, re-wrap, retire."""

from __future__ import annotations

from litestar import Controller
from litestar.datastructures import State

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, post
from control_plane.secrets import service
from control_plane.secrets.schemas import KeyVersions, Rewrapped, Rotated
from control_plane.state import app_state


class SecretKeyController(Controller):
    path = "/secrets/keys"
    tags = ("secrets",)
    guards = requires(Permission.MANAGE_SECRETS)

    @get("/", summary="The organisation's key versions: current, still decrypting, and what each wraps")
    def status(self, state: State, tenant: CurrentTenant) -> KeyVersions:
        return service.key_versions(app_state(state).secrets, tenant.organization_id)

    @post("/rotate", summary="A new key version for new writes; older versions keep decrypting")
    def rotate(self, db: Db, state: State, tenant: CurrentTenant) -> Rotated:
        return service.rotate(db, app_state(state).secrets, tenant)

    @post("/rewrap", summary="Move every stored secret's data key to the current key version")
    def rewrap(self, db: Db, state: State, tenant: CurrentTenant) -> Rewrapped:
        return service.rewrap(db, app_state(state).secrets, tenant)

    @delete(
        "/{version:int}",
        status_code=200,
        summary="Retire key versions up to this one (409 while current or still wrapping a secret)",
    )
    def retire(self, db: Db, state: State, tenant: CurrentTenant, version: IdParam) -> KeyVersions:
        return service.retire(db, app_state(state).secrets, tenant, version)
