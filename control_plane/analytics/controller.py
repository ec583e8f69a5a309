"""``/analytics`` (overview, quality, AI usage, insights, realtime) and ``/reports``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from litestar import Controller, Response
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter
from sqlmodel import col, select

from control_plane.analytics import service
from control_plane.analytics.insights import refresh, set_status
from control_plane.analytics.models import Insight, Report
from control_plane.analytics.reports import ReportCreate, ReportDefinition, columns_of, run_report, save_report
from control_plane.analytics.schemas import (
    InsightRead,
    Overview,
    Period,
    QualityReport,
    Realtime,
    ReportRead,
    UsageSummary,
    UsageTimeline,
)
from control_plane.analytics.sql import Granularity
from control_plane.audit.service import record, snapshot
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.csv_export import to_csv
from control_plane.db.types import utcnow
from control_plane.domain_errors import InvalidInput
from control_plane.organizations.service import get as get_organization
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, post
from control_plane.state import app_state
from control_plane.tenancy import owned

Moment = Annotated[dt.datetime | None, QueryParameter(description="ISO 8601; default: the last 30 days up to now")]
Participant = Annotated[str | None, QueryParameter(min_length=1, max_length=200)]
CallId = Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)]
Status = Annotated[Literal["open", "acknowledged", "dismissed"] | None, QueryParameter()]
Format = Annotated[Literal["json", "csv"], QueryParameter(description="json rows or a CSV file")]
DEFAULT_PERIOD = dt.timedelta(days=30)


def period(since: dt.datetime | None, until: dt.datetime | None) -> Period:
    end = _aware(until) if until else utcnow()
    start = _aware(since) if since else end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidInput("since must be before until")
    return Period(since=start, until=end)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ("analytics",)
    guards = requires(Permission.READ)

    @get("/overview", summary="Users, calls, minutes, AI usage, cost, call types, quality, top users")
    def overview(self, db: Db, tenant: CurrentTenant, since: Moment = None, until: Moment = None) -> Overview:
        return service.overview(db, tenant.organization_id, period(since, until))

    @get(
        "/quality",
        summary="Call quality (overall, by connection, the 100 busiest participants), for a call or participant",
    )
    def quality(
        self,
        db: Db,
        tenant: CurrentTenant,
        since: Moment = None,
        until: Moment = None,
        call_id: CallId = None,
        participant: Participant = None,
    ) -> QualityReport:
        return service.quality_report(db, tenant.organization_id, period(since, until), call_id, participant)

    @get("/usage", summary="AI usage: summary, per feature, per provider")
    def usage(self, db: Db, tenant: CurrentTenant, since: Moment = None, until: Moment = None) -> UsageSummary:
        return service.usage_summary(db, tenant.organization_id, period(since, until))

    @get("/usage/timeline", summary="AI usage and cost per day, week or month")
    def timeline(
        self,
        db: Db,
        tenant: CurrentTenant,
        granularity: Annotated[Granularity, QueryParameter()] = "day",
        since: Moment = None,
        until: Moment = None,
    ) -> UsageTimeline:
        return service.usage_timeline(db, tenant.organization_id, period(since, until), granularity)

    @get("/realtime", summary="Active calls, participants, MOS distribution, frames/s, now")
    def realtime(self, state: State, tenant: CurrentTenant) -> Realtime:
        return Realtime.model_validate(app_state(state).realtime.snapshot(tenant.organization_id))

    @get("/insights", summary="Cost-optimisation insights found by the scheduled job")
    def insights(self, db: Db, tenant: CurrentTenant, status: Status = None) -> list[InsightRead]:
        query = select(Insight).where(Insight.organization_id == tenant.organization_id)
        if status:
            query = query.where(Insight.status == status)
        return [InsightRead.model_validate(i) for i in db.exec(query.order_by(col(Insight.id).desc())).all()]

    @post("/insights/refresh", guards=requires(Permission.MANAGE_MEMBERS), status_code=200, summary="Run the job now")
    def refresh_insights(self, db: Db, tenant: CurrentTenant) -> dict[str, int]:
        return {"new": refresh(db, get_organization(db, tenant.organization_id))}

    @post("/insights/{insight_id:int}/acknowledge", guards=requires(Permission.MANAGE_MEMBERS), status_code=200)
    def acknowledge(self, db: Db, tenant: CurrentTenant, insight_id: IdParam) -> InsightRead:
        return InsightRead.model_validate(set_status(db, tenant, insight_id, "acknowledged"))

    @post("/insights/{insight_id:int}/dismiss", guards=requires(Permission.MANAGE_MEMBERS), status_code=200)
    def dismiss(self, db: Db, tenant: CurrentTenant, insight_id: IdParam) -> InsightRead:
        return InsightRead.model_validate(set_status(db, tenant, insight_id, "dismissed"))


class ReportController(Controller):
    path = "/reports"
    tags = ("analytics",)
    guards = requires(Permission.READ)

    @post("/", guards=requires(Permission.USE), summary="Save a report definition")
    def create(self, db: Db, tenant: CurrentTenant, data: JSONBody[ReportCreate]) -> ReportRead:
        return ReportRead.model_validate(save_report(db, tenant, data))

    @get("/")
    def list_reports(self, db: Db, tenant: CurrentTenant) -> list[ReportRead]:
        query = select(Report).where(Report.organization_id == tenant.organization_id).order_by(col(Report.id))
        return [ReportRead.model_validate(r) for r in db.exec(query).all()]

    @get("/{report_id:int}")
    def get_one(self, db: Db, tenant: CurrentTenant, report_id: IdParam) -> ReportRead:
        return ReportRead.model_validate(_report(db, tenant, report_id))

    @get("/{report_id:int}/run", summary="Run it: JSON rows, or CSV with format=csv")
    def run(self, db: Db, tenant: CurrentTenant, report_id: IdParam, format: Format = "json") -> Response[Any]:
        report = _report(db, tenant, report_id)
        definition = ReportDefinition.model_validate(report.definition)
        run = run_report(db, tenant.organization_id, definition)
        if format == "csv":
            return Response(
                to_csv(run.rows, columns_of(definition)),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="report-{report_id}.csv"'},
            )
        report_json = ReportRead.model_validate(report).model_dump(mode="json")
        return Response({"report": report_json, "rows": run.rows, "source": run.source, "note": run.note})

    @delete("/{report_id:int}", guards=requires(Permission.USE))
    def delete_one(self, db: Db, tenant: CurrentTenant, report_id: IdParam) -> None:
        report = _report(db, tenant, report_id)
        record(db, tenant.audit, tenant.organization_id, "report.delete", report, before=snapshot(report))
        db.delete(report)
        db.commit()


def _report(db: Db, tenant: Tenant, report_id: int) -> Report:
    return owned(db, Report, report_id, tenant.organization_id, "report")
