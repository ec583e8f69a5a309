"""Compliance: exports (request, follow, download), erasures (typed confirmation; a legal hold's reason when
refused), retention policies, legal holds and the GDPR report."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.response import Redirect, Template

from control_plane.audit.service import record
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.compliance import exports, jobs, policies, reports, service
from control_plane.compliance.models import ComplianceRequest, RequestStatus, ResourceType
from control_plane.compliance.schemas import (
    ErasureCreate,
    ExportCreate,
    LegalHoldCreate,
    RetentionPolicyCreate,
)
from control_plane.context import AnyRequest
from control_plane.domain_errors import ClientError
from control_plane.organizations import service as organizations
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from control_plane.state import app_state
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import back_to, page, refusal_status

HERE = "/ui/compliance"
RESOURCE_TYPES = [(t.value, t.value.replace("_", " ")) for t in ResourceType]
UNFINISHED = {RequestStatus.PENDING, RequestStatus.PROCESSING}


def _run_after(state: State, row: ComplianceRequest) -> BackgroundTask | None:
    """The request's job, right after the answer (as the API does when ``compliance_run_on_request``)."""
    shared = app_state(state)
    if shared.settings.compliance_run_on_request and row.id is not None:
        return BackgroundTask(jobs.run_request, shared, row.id)
    return None


class CompliancePages(Controller):
    path = HERE
    include_in_schema = False
    guards = requires(Permission.MANAGE_COMPLIANCE)

    @get("/")
    def compliance(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return _page(db, tenant, request)

    @get("/requests")
    def requests(self, db: Db, tenant: CurrentTenant) -> Template:
        """The requests table alone: the page polls it while a request is unfinished."""
        return Template("partials/compliance_requests.html", context=_requests(db, tenant))

    @post("/exports")
    def export(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        if values.get("scope") != "user":
            values.pop("user_id", None)
        try:
            row = service.request_export(db, tenant, parse(ExportCreate, values))
        except (FormError, ClientError) as error:
            return _again(db, tenant, request, "export", values, error)
        return Redirect(HERE, status_code=303, background=_run_after(state, row))

    @post("/erasures")
    def erase(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        typed = str(values.pop("confirmation", "")).strip()
        subject = str(values.get("email", "")).strip().lower()
        if not subject or typed.lower() != f"erase {subject}":
            state_ = FormState(
                values | {"confirmation": typed}, {"confirmation": f"type: erase {subject or '<e-mail>'}"}
            )
            return _page(db, tenant, request, erasure=state_, status_code=400)
        try:
            row = service.request_erasure(db, tenant, parse(ErasureCreate, values))
        except (FormError, ClientError) as error:
            return _again(db, tenant, request, "erasure", values, error)
        return Redirect(HERE, status_code=303, background=_run_after(state, row))

    @post("/requests/{request_id:int}/cancel")
    def cancel(self, db: Db, tenant: CurrentTenant, request_id: IdParam) -> Redirect:
        service.cancel(db, service.get(db, request_id, tenant.organization_id), tenant.audit)
        return back_to(HERE)

    @get("/requests/{request_id:int}/download")
    def download(self, db: Db, state: State, tenant: CurrentTenant, request_id: IdParam) -> Response[bytes]:
        row = service.get(db, request_id, tenant.organization_id)
        content = service.download(db, app_state(state).secrets, row, tenant.audit)
        filename, media_type = exports.download_name(row)
        disposition = f'attachment; filename="{filename}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

    @post("/retention-policies")
    def add_policy(self, db: Db, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data)
        values["legal_hold"] = values.get("legal_hold") == "on"
        try:
            policies.create_policy(db, tenant, parse(RetentionPolicyCreate, values))
        except (FormError, ClientError) as error:
            return _again(db, tenant, request, "policy", values, error)
        return back_to(HERE)

    @post("/retention-policies/{policy_id:int}/delete")
    def delete_policy(self, db: Db, tenant: CurrentTenant, policy_id: IdParam) -> Redirect:
        policies.delete_policy(db, tenant, policy_id)
        return back_to(HERE)

    @post("/legal-holds")
    def place_hold(self, db: Db, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data)
        try:
            policies.place_hold(db, tenant, parse(LegalHoldCreate, values))
        except (FormError, ClientError) as error:
            return _again(db, tenant, request, "hold", values, error)
        return back_to(HERE)

    @post("/legal-holds/{hold_id:int}/release")
    def release_hold(self, db: Db, tenant: CurrentTenant, hold_id: IdParam) -> Redirect:
        policies.release_hold(db, tenant, hold_id)
        return back_to(HERE)

    @get("/reports/gdpr.csv")
    def gdpr_csv(self, db: Db, tenant: CurrentTenant) -> Response[str]:
        found = reports.gdpr(db, tenant.organization_id)
        record(db, tenant.audit, tenant.organization_id, "compliance.report.gdpr", resource_type="compliance_report")
        db.commit()
        return Response(
            reports.to_rows_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="gdpr-report.csv"'},
        )


def _again(
    db: Db, tenant: Tenant, request: AnyRequest, form: str, values: dict[str, Any], error: Exception
) -> Template:
    """The page again with the ``form`` that was refused showing why (a legal hold's reason included)."""
    if isinstance(error, FormError):
        shown = error.state
        shown.values = values
    else:
        assert isinstance(error, ClientError)
        shown = FormState(values, problem=error.message)
    return _page(db, tenant, request, status_code=refusal_status(error), **{form: shown})


def _requests(db: Db, tenant: Tenant) -> dict[str, Any]:
    found = [service.read(r) for r in service.of_organization(db, tenant.organization_id, None, None, 50, 0)]
    return {"requests": found, "unfinished": any(r.status in UNFINISHED for r in found)}


def _page(db: Db, tenant: Tenant, request: AnyRequest, status_code: int = 200, **forms: Any) -> Template:
    blank = FormState()
    members = organizations.members(db, tenant.organization_id)
    return page(
        request,
        db,
        "compliance.html",
        status_code=status_code,
        members=members,
        member_options=[(str(m.user_id), m.email) for m in members],
        policies=policies.policies(db, tenant.organization_id),
        holds=policies.holds(db, tenant.organization_id),
        report=reports.gdpr(db, tenant.organization_id),
        resource_types=RESOURCE_TYPES,
        export=forms.get("export", blank),
        erasure=forms.get("erasure", blank),
        policy=forms.get("policy", blank),
        hold=forms.get("hold", blank),
        **_requests(db, tenant),
    )
