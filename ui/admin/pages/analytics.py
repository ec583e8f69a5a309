"""Analytics: quality, AI usage by day/week/month, feature and provider, cost insights (acknowledge, dismiss),
custom reports built with a form, saved, run and downloaded as CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import col, select

from control_plane.analytics import service as analytics
from control_plane.analytics.insights import set_status
from control_plane.analytics.models import Insight, Report
from control_plane.analytics.reports import (
    DATASETS,
    ReportCreate,
    ReportDefinition,
    columns_of,
    run_report,
    save_report,
)
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.csv_export import to_csv
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from control_plane.tenancy import owned
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import PERIOD_PICKER, Chosen, PeriodChoice, back_to, page, provide_period

Grain = Literal["day", "week", "month"]
CATALOGUE = {name: {"measures": list(d.measures), "dimensions": list(d.dimensions)} for name, d in DATASETS.items()}


def _definition(values: dict[str, Any]) -> dict[str, Any]:
    """The report form's fields as a :class:`ReportCreate` body (the dataset's own checkboxes only)."""
    dataset = str(values.get("dataset", ""))
    definition: dict[str, Any] = {
        "dataset": dataset,
        "measures": values.get(f"{dataset}_measures", []),
        "dimensions": values.get(f"{dataset}_dimensions", []),
    }
    if values.get("granularity"):
        definition["granularity"] = values["granularity"]
    if values.get("last_days"):
        definition["last_days"] = values["last_days"]
    if values.get("filter_dimension") and values.get("filter_value"):
        definition["filters"] = {values["filter_dimension"]: values["filter_value"]}
    return {"name": values.get("name", ""), "definition": definition}


class AnalyticsPages(Controller):
    path = "/ui/analytics"
    include_in_schema = False
    guards = requires(Permission.READ)
    dependencies = PERIOD_PICKER

    @get("/")
    def analytics(
        self,
        db: Db,
        tenant: CurrentTenant,
        request: AnyRequest,
        chosen: Chosen,
        granularity: Annotated[Grain, QueryParameter()] = "day",
    ) -> Template:
        return _page(db, tenant, request, chosen, granularity=granularity)

    @post("/insights/{insight_id:int}/acknowledge", guards=requires(Permission.MANAGE_MEMBERS))
    def acknowledge(self, db: Db, tenant: CurrentTenant, insight_id: IdParam) -> Redirect:
        set_status(db, tenant, insight_id, "acknowledged")
        return back_to("/ui/analytics#insights")

    @post("/insights/{insight_id:int}/dismiss", guards=requires(Permission.MANAGE_MEMBERS))
    def dismiss(self, db: Db, tenant: CurrentTenant, insight_id: IdParam) -> Redirect:
        set_status(db, tenant, insight_id, "dismissed")
        return back_to("/ui/analytics#insights")

    @post("/reports", guards=requires(Permission.USE))
    def create_report(self, db: Db, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data, lists=frozenset(f"{n}_{k}" for n in DATASETS for k in ("measures", "dimensions")))
        try:
            report = save_report(db, tenant, parse(ReportCreate, _definition(values)))
        except FormError as refused:
            shown = FormState(values, refused.state.errors, refused.state.problem)
            if "definition" in shown.errors:
                shown.problem = shown.errors.pop("definition")
            chosen = provide_period()
            return _page(db, tenant, request, chosen, report_form=shown, status_code=400)
        return back_to(f"/ui/analytics/reports/{report.id}")

    @get("/reports/{report_id:int}")
    def report(self, db: Db, tenant: CurrentTenant, report_id: IdParam, request: AnyRequest) -> Template:
        found = owned(db, Report, report_id, tenant.organization_id, "report")
        definition = ReportDefinition.model_validate(found.definition)
        run = run_report(db, tenant.organization_id, definition)
        return page(request, db, "report.html", report=found, columns=columns_of(definition), run=run, rows=run.rows)

    @get("/reports/{report_id:int}/report.csv")
    def report_csv(self, db: Db, tenant: CurrentTenant, report_id: IdParam) -> Response[str]:
        found = owned(db, Report, report_id, tenant.organization_id, "report")
        definition = ReportDefinition.model_validate(found.definition)
        return Response(
            to_csv(run_report(db, tenant.organization_id, definition).rows, columns_of(definition)),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="report-{report_id}.csv"'},
        )


def _page(
    db: Db,
    tenant: Tenant,
    request: AnyRequest,
    chosen: PeriodChoice,
    *,
    granularity: Grain = "day",
    report_form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    period = chosen.period
    organization_id = tenant.organization_id
    insights = db.exec(
        select(Insight).where(Insight.organization_id == organization_id).order_by(col(Insight.id).desc()).limit(50)
    ).all()
    reports = db.exec(select(Report).where(Report.organization_id == organization_id).order_by(col(Report.id))).all()
    return page(
        request,
        db,
        "analytics.html",
        status_code=status_code,
        quality=analytics.quality_report(db, organization_id, period, None, None),
        usage=analytics.usage_summary(db, organization_id, period),
        timeline=analytics.usage_timeline(db, organization_id, period, granularity),
        insights=insights,
        reports=reports,
        catalogue=CATALOGUE,
        report_form=report_form or FormState({"dataset": "quality", "last_days": "30"}),
        chosen=chosen,
        granularity=granularity,
    )
