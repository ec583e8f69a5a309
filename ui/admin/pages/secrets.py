"""Secrets: the organisation's provider keys (masked; add, rotate, revoke) and its key versions (rotate, rewrap,
retire)."""

from __future__ import annotations

from typing import Any

from litestar import Controller
from litestar.datastructures import State
from litestar.response import Redirect, Template

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.domain_errors import ClientError, InvalidInput
from control_plane.principals import Tenant
from control_plane.provider_keys import service as provider_keys
from control_plane.provider_keys.schemas import Provider, ProviderKeyCreate, ProviderKeyRotate
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from control_plane.secrets import service as key_versions
from control_plane.secrets.errors import SecretStoreError, as_domain_error
from control_plane.state import app_state
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import back_to, page, refusal_status

PROVIDERS = [(p.value, p.value) for p in Provider]


class SecretPages(Controller):
    path = "/ui/secrets"
    include_in_schema = False
    guards = requires(Permission.MANAGE_SECRETS)

    @get("/")
    def secrets(self, db: Db, state: State, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return _page(db, state, tenant, request)

    @post("/provider-keys")
    def add(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        try:
            provider_keys.create(db, app_state(state).secrets, tenant, parse(ProviderKeyCreate, values))
        except (FormError, ClientError) as error:
            shown = _without_key(error, values)
            return _page(db, state, tenant, request, form=shown, status_code=refusal_status(error))
        return back_to("/ui/secrets")

    @post("/provider-keys/{key_id:int}/rotate")
    def rotate(
        self, db: Db, state: State, tenant: CurrentTenant, key_id: IdParam, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        try:
            provider_keys.rotate(db, app_state(state).secrets, tenant, key_id, parse(ProviderKeyRotate, values))
        except (FormError, ClientError) as error:
            problem = next(iter(error.state.errors.values())) if isinstance(error, FormError) else error.message
            return _page(db, state, tenant, request, row_errors={key_id: problem}, status_code=refusal_status(error))
        return back_to("/ui/secrets")

    @post("/provider-keys/{key_id:int}/revoke")
    def revoke(self, db: Db, state: State, tenant: CurrentTenant, key_id: IdParam) -> Redirect:
        provider_keys.revoke(db, app_state(state).secrets, tenant, key_id)
        return back_to("/ui/secrets")

    @post("/keys/rotate")
    def rotate_key(self, db: Db, state: State, tenant: CurrentTenant, request: AnyRequest) -> Template:
        rotated = key_versions.rotate(db, app_state(state).secrets, tenant)
        return _page(
            db, state, tenant, request, done=f"Key version {rotated.current_version} now encrypts new secrets."
        )

    @post("/keys/rewrap")
    def rewrap(self, db: Db, state: State, tenant: CurrentTenant, request: AnyRequest) -> Template:
        moved = key_versions.rewrap(db, app_state(state).secrets, tenant)
        done = f"{moved.moved} stored secret versions moved to key version {moved.current_version}."
        return _page(db, state, tenant, request, done=done)

    @post("/keys/retire")
    def retire(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        chosen = str(values.get("version", ""))
        try:
            if not chosen.isdigit() or not 1 <= int(chosen) <= 2**31:
                raise InvalidInput(f"choose a key version to retire, not {chosen[:20]!r}")
            retired = key_versions.retire(db, app_state(state).secrets, tenant, int(chosen))
        except SecretStoreError as error:  # refused (still in use, or the current one) or failing: beside the field
            refused = as_domain_error(error)
            form = FormState(values, {"version": refused.message})
            return _page(db, state, tenant, request, retire_form=form, status_code=refusal_status(refused))
        except InvalidInput as error:
            form = FormState(values, {"version": error.message})
            return _page(db, state, tenant, request, retire_form=form, status_code=400)
        left = ", ".join(str(v) for v in retired.versions)
        return _page(db, state, tenant, request, done=f"Key versions up to {chosen} are retired; {left} still decrypt.")


def _without_key(error: Exception, values: dict[str, Any]) -> FormState:
    """The form shown again: never with the key typed (it is a secret), the problem beside its field."""
    kept = {k: v for k, v in values.items() if k != "key"}
    if isinstance(error, FormError):
        return FormState(kept, error.state.errors)
    return FormState(kept, {"name": error.message} if isinstance(error, ClientError) else {})


def _page(db: Db, state: State, tenant: Tenant, request: AnyRequest, **context: Any) -> Template:
    versions = key_versions.key_versions(app_state(state).secrets, tenant.organization_id)
    return page(
        request,
        db,
        "secrets.html",
        keys=provider_keys.of_organization(db, tenant.organization_id),
        versions=versions,
        retirable=[(str(v), f"version {v}") for v in versions.versions if v != versions.current_version],
        providers=PROVIDERS,
        row_errors=context.pop("row_errors", {}),
        retire_form=context.pop("retire_form", None) or FormState(),
        **context,
    )
