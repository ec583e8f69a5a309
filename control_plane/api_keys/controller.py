"""``/api-keys``: the acting organisation's keys."""

from __future__ import annotations

from litestar import Controller
from litestar.datastructures import State
from litestar.params import JSONBody

from control_plane.api_keys import service
from control_plane.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, post
from control_plane.state import app_state


class ApiKeyController(Controller):
    path = "/api-keys"
    tags = ("api keys",)
    guards = requires(Permission.MANAGE_MEMBERS)

    @post("/", summary="Create a key; the response is the only time the whole key is shown")
    def create(self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[ApiKeyCreate]) -> ApiKeyCreated:
        return service.create(db, tenant, data, app_state(state).settings.api_key_requests_per_minute)

    @get("/", summary="Keys, by prefix, with scopes, last use and expiry")
    def list_keys(self, db: Db, tenant: CurrentTenant) -> list[ApiKeyRead]:
        return [ApiKeyRead.model_validate(k) for k in service.of_organization(db, tenant.organization_id)]

    @delete("/{key_id:int}", summary="Revoke a key (refused at once by this server, by every other within 2 s)")
    def revoke(self, db: Db, tenant: CurrentTenant, key_id: IdParam) -> None:
        service.revoke(db, tenant, key_id)
