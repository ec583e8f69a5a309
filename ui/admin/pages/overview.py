"""The overview: the analytics service's figures for a period, calls per day and the MOS distribution."""

from __future__ import annotations

import json

from litestar import Controller
from litestar.response import Template

from control_plane.analytics import service as analytics
from control_plane.analytics.charts import calls_per_day, mos_distribution
from control_plane.analytics.side_by_side import side_by_side
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.routing import CurrentTenant, Db, get
from ui.admin.web import PERIOD_PICKER, Chosen, page


class OverviewPages(Controller):
    path = "/"
    include_in_schema = False
    dependencies = PERIOD_PICKER

    @get("/", guards=requires(Permission.READ))
    def overview(self, db: Db, tenant: CurrentTenant, request: AnyRequest, chosen: Chosen) -> Template:
        period = chosen.period
        organization_id = tenant.organization_id
        figures, daily, bands = side_by_side(
            db,
            lambda own: analytics.overview(own, organization_id, period),
            lambda own: calls_per_day(own, organization_id, period),
            lambda own: mos_distribution(own, organization_id, period),
        )
        charts = {
            "calls": {"x": daily.days, "y": daily.calls},
            "mos": {"labels": [label for label, _ in bands], "y": [n for _, n in bands]},
        }
        return page(
            request,
            db,
            "overview.html",
            figures=figures,
            chosen=chosen,
            charts=json.dumps(charts).replace("<", "\\u003c"),
            has_calls=any(daily.calls),
            has_samples=any(n for _, n in bands),
        )
