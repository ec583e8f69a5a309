"""``/compliance``: exports, erasures, retention policies, legal holds, reports (``manage_compliance``),
and ``/compliance/me``: a signed-in person's own export and erasure."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter

from control_plane.audit.service import record
from control_plane.auth.guards import requires, signed_in_user
from control_plane.auth.permissions import Permission
from control_plane.compliance import exports, jobs, policies, reports, service
from control_plane.compliance.models import ComplianceRequest, RequestKind, RequestStatus
from control_plane.compliance.schemas import (
    ErasureCreate,
    ExportCreate,
    LegalHoldCreate,
    LegalHoldRead,
    RequestRead,
    RetentionPolicyCreate,
    RetentionPolicyRead,
    RetentionPolicyUpdate,
    SelfErasureCreate,
    SelfExportCreate,
)
from control_plane.context import AnyRequest, audit_context, principal_of
from control_plane.routing import CurrentTenant, Db, IdParam, Limit, Offset, delete, get, patch, post
from control_plane.state import app_state

Kind = Annotated[RequestKind | None, QueryParameter(description="export or erasure")]
Status = Annotated[RequestStatus | None, QueryParameter()]
Format = Annotated[Literal["json", "csv"], QueryParameter(description="JSON document or CSV rows")]


def _created(state: State, request: ComplianceRequest, *, own: bool = False) -> Response[RequestRead]:
    """201 with the request; the job runs it right after the response when ``compliance_run_on_request``."""
    shared = app_state(state)
    background = None
    if shared.settings.compliance_run_on_request and request.id is not None:
        background = BackgroundTask(jobs.run_request, shared, request.id)
    return Response(service.read(request, own=own), status_code=201, background=background)


def _file(content: bytes, request: ComplianceRequest) -> Response[bytes]:
    filename, media_type = exports.download_name(request)
    disposition = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


class ComplianceController(Controller):
    path = "/compliance"
    tags = ("compliance",)
    guards = requires(Permission.MANAGE_COMPLIANCE)

    @post("/exports", summary="Export the organisation's data, or one member's (JSON or a zip of CSV files)")
    def export(
        self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[ExportCreate]
    ) -> Response[RequestRead]:
        return _created(state, service.request_export(db, tenant, data))

    @post("/erasures", summary="Erase a person's data (409 with the reason under a legal hold)")
    def erase(
        self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[ErasureCreate]
    ) -> Response[RequestRead]:
        return _created(state, service.request_erasure(db, tenant, data))

    @get("/requests", summary="Export and erasure requests, newest first")
    def list_requests(
        self,
        db: Db,
        tenant: CurrentTenant,
        kind: Kind = None,
        status: Status = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[RequestRead]:
        found = service.of_organization(db, tenant.organization_id, kind, status, limit, offset)
        return [service.read(r) for r in found]

    @get("/requests/{request_id:int}")
    def get_request(self, db: Db, tenant: CurrentTenant, request_id: IdParam) -> RequestRead:
        return service.read(service.get(db, request_id, tenant.organization_id))

    @post("/requests/{request_id:int}/cancel", status_code=200, summary="Cancel a pending request")
    def cancel(self, db: Db, tenant: CurrentTenant, request_id: IdParam) -> RequestRead:
        row = service.get(db, request_id, tenant.organization_id)
        return service.read(service.cancel(db, row, tenant.audit))

    @get("/requests/{request_id:int}/download", summary="An export's file (410 Gone once its link expired)")
    def download(self, db: Db, state: State, tenant: CurrentTenant, request_id: IdParam) -> Response[bytes]:
        row = service.get(db, request_id, tenant.organization_id)
        return _file(service.download(db, app_state(state).secrets, row, tenant.audit), row)

    @post("/jobs/run", status_code=200, summary="Run the compliance job for this organisation now")
    def run_job(self, state: State, tenant: CurrentTenant) -> dict[str, Any]:
        return jobs.compliance_job(app_state(state), tenant.organization_id)

    @get("/reports/gdpr", summary="The GDPR report: data held, retention, holds, requests, audit; JSON or CSV")
    def gdpr_report(self, db: Db, tenant: CurrentTenant, format: Format = "json") -> Response[Any]:
        found = reports.gdpr(db, tenant.organization_id)
        record(db, tenant.audit, tenant.organization_id, "compliance.report.gdpr", resource_type="compliance_report")
        db.commit()
        if format == "csv":
            return Response(
                reports.to_rows_csv(found),
                media_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="gdpr-report.csv"'},
            )
        return Response(found)


class RetentionController(Controller):
    path = "/compliance"
    tags = ("compliance",)
    guards = requires(Permission.MANAGE_COMPLIANCE)

    @post("/retention-policies", summary="A retention policy for one resource type")
    def create_policy(
        self, db: Db, tenant: CurrentTenant, data: JSONBody[RetentionPolicyCreate]
    ) -> RetentionPolicyRead:
        return RetentionPolicyRead.model_validate(policies.create_policy(db, tenant, data))

    @get("/retention-policies")
    def list_policies(self, db: Db, tenant: CurrentTenant) -> list[RetentionPolicyRead]:
        return [RetentionPolicyRead.model_validate(p) for p in policies.policies(db, tenant.organization_id)]

    @patch("/retention-policies/{policy_id:int}", summary="Change days, legal hold or its reason")
    def update_policy(
        self, db: Db, tenant: CurrentTenant, policy_id: IdParam, data: JSONBody[RetentionPolicyUpdate]
    ) -> RetentionPolicyRead:
        return RetentionPolicyRead.model_validate(policies.update_policy(db, tenant, policy_id, data))

    @delete("/retention-policies/{policy_id:int}")
    def delete_policy(self, db: Db, tenant: CurrentTenant, policy_id: IdParam) -> None:
        policies.delete_policy(db, tenant, policy_id)

    @post("/legal-holds", summary="Hold the organisation's data, or one member's: no erasure, no retention")
    def place_hold(self, db: Db, tenant: CurrentTenant, data: JSONBody[LegalHoldCreate]) -> LegalHoldRead:
        return LegalHoldRead.model_validate(policies.place_hold(db, tenant, data))

    @get("/legal-holds", summary="Legal holds, active and released")
    def list_holds(self, db: Db, tenant: CurrentTenant) -> list[LegalHoldRead]:
        return [LegalHoldRead.model_validate(h) for h in policies.holds(db, tenant.organization_id)]

    @post("/legal-holds/{hold_id:int}/release", status_code=200, summary="Release a hold")
    def release_hold(self, db: Db, tenant: CurrentTenant, hold_id: IdParam) -> LegalHoldRead:
        return LegalHoldRead.model_validate(policies.release_hold(db, tenant, hold_id))


class SelfServiceController(Controller):
    path = "/compliance/me"
    tags = ("compliance",)
    guards = [signed_in_user]  # noqa: RUF012

    @post("/exports", summary="Export everything held about me, in every organisation")
    def export(
        self, db: Db, state: State, request: AnyRequest, data: JSONBody[SelfExportCreate]
    ) -> Response[RequestRead]:
        row = service.request_own_export(db, _me(request), data.format, audit_context(request))
        return _created(state, row, own=True)

    @post("/erasure", summary="Erase me everywhere (confirm with the password; 409 under a legal hold)")
    def erase(
        self, db: Db, state: State, request: AnyRequest, data: JSONBody[SelfErasureCreate]
    ) -> Response[RequestRead]:
        row = service.request_own_erasure(db, _me(request), data.password, audit_context(request))
        return _created(state, row, own=True)

    @get("/requests", summary="My own requests")
    def list_requests(self, db: Db, request: AnyRequest) -> list[RequestRead]:
        return [service.read(r, own=True) for r in service.of_user(db, _me(request))]

    @get("/requests/{request_id:int}")
    def get_request(self, db: Db, request: AnyRequest, request_id: IdParam) -> RequestRead:
        return service.read(service.get(db, request_id, None, _me(request)), own=True)

    @post("/requests/{request_id:int}/cancel", status_code=200)
    def cancel(self, db: Db, request: AnyRequest, request_id: IdParam) -> RequestRead:
        row = service.get(db, request_id, None, _me(request))
        return service.read(service.cancel(db, row, audit_context(request)), own=True)

    @get("/requests/{request_id:int}/download", summary="My export's file (410 Gone once its link expired)")
    def download(self, db: Db, state: State, request: AnyRequest, request_id: IdParam) -> Response[bytes]:
        row = service.get(db, request_id, None, _me(request))
        return _file(service.download(db, app_state(state).secrets, row, audit_context(request)), row)


def _me(request: AnyRequest) -> int:
    user_id = principal_of(request).user_id
    assert user_id is not None  # the guard let only users through
    return user_id
