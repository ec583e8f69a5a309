"""API keys: create (the key shown once), list with scopes, expiry and last use, revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller
from litestar.datastructures import State
from litestar.response import Redirect, Template

from control_plane.api_keys import service as api_keys
from control_plane.api_keys.schemas import ApiKeyCreate
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission, Scope
from control_plane.context import AnyRequest
from control_plane.domain_errors import ClientError
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from control_plane.state import app_state
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import back_to, page, refusal_status

SCOPES = [
    (Scope.READ.value, "read: see everything"),
    (Scope.WRITE.value, "write: also run agents and reports"),
    (Scope.ADMIN.value, "admin: also manage members, keys, compliance"),
    (Scope.TELEMETRY.value, "telemetry: an engine reporting calls"),
]


class ApiKeyPages(Controller):
    path = "/ui/api-keys"
    include_in_schema = False
    guards = requires(Permission.MANAGE_MEMBERS)

    @get("/")
    def keys(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return _page(db, tenant, request)

    @post("/")
    def create(self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template:
        values = form_values(data, lists=frozenset({"scopes"}))
        if values.get("scopes") == []:
            values.pop("scopes")
        try:
            created = api_keys.create(
                db, tenant, parse(ApiKeyCreate, values), app_state(state).settings.api_key_requests_per_minute
            )
        except FormError as refused:
            return _page(db, tenant, request, form=refused.state, status_code=400)
        except ClientError as error:
            shown = FormState(values, {"scopes": error.message})
            return _page(db, tenant, request, form=shown, status_code=refusal_status(error))
        return _page(db, tenant, request, created=created)

    @post("/{key_id:int}/revoke")
    def revoke(self, db: Db, tenant: CurrentTenant, key_id: IdParam) -> Redirect:
        api_keys.revoke(db, tenant, key_id)
        return back_to("/ui/api-keys")


def _page(db: Db, tenant: Tenant, request: AnyRequest, **context: Any) -> Template:
    return page(
        request,
        db,
        "api_keys.html",
        keys=api_keys.of_organization(db, tenant.organization_id),
        scopes=SCOPES,
        **context,
    )
