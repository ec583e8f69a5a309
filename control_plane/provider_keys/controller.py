"""``/provider-keys``: the acting organisation's provider API keys, shown only masked."""

from __future__ import annotations

from litestar import Controller
from litestar.datastructures import State
from litestar.params import JSONBody

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.provider_keys import service
from control_plane.provider_keys.schemas import ProviderKeyCreate, ProviderKeyRead, ProviderKeyRotate
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, post
from control_plane.state import app_state


class ProviderKeyController(Controller):
    path = "/provider-keys"
    tags = ("provider keys",)
    guards = requires(Permission.MANAGE_SECRETS)

    @post("/", summary="Store a provider's API key (kept in the secret store; only its masked form is shown)")
    def create(self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[ProviderKeyCreate]) -> ProviderKeyRead:
        return ProviderKeyRead.model_validate(service.create(db, app_state(state).secrets, tenant, data))

    @get("/", summary="The organisation's provider keys, masked, with version, rotation and revocation times")
    def list_keys(self, db: Db, tenant: CurrentTenant) -> list[ProviderKeyRead]:
        return [ProviderKeyRead.model_validate(k) for k in service.of_organization(db, tenant.organization_id)]

    @get("/{provider_key_id:int}", summary="One provider key, masked")
    def get_key(self, db: Db, tenant: CurrentTenant, provider_key_id: IdParam) -> ProviderKeyRead:
        return ProviderKeyRead.model_validate(service.get(db, tenant.organization_id, provider_key_id))

    @post("/{provider_key_id:int}/rotate", status_code=200, summary="Replace the key with a new value (a new version)")
    def rotate(
        self, db: Db, state: State, tenant: CurrentTenant, provider_key_id: IdParam, data: JSONBody[ProviderKeyRotate]
    ) -> ProviderKeyRead:
        return ProviderKeyRead.model_validate(
            service.rotate(db, app_state(state).secrets, tenant, provider_key_id, data)
        )

    @delete(
        "/{provider_key_id:int}", status_code=200, summary="Revoke the key: every version is destroyed in the store"
    )
    def revoke(self, db: Db, state: State, tenant: CurrentTenant, provider_key_id: IdParam) -> ProviderKeyRead:
        return ProviderKeyRead.model_validate(service.revoke(db, app_state(state).secrets, tenant, provider_key_id))
