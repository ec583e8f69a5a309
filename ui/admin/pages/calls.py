"""Calls: the list with filters and quality tags, and one call's participants, timelines, events and usage."""

from __future__ import annotations

import json
from typing import Annotated

from litestar import Controller
from litestar.params import QueryParameter
from litestar.response import Template

from control_plane.analytics.calls import CallFilter, call_detail, call_types, list_calls
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.domain_errors import InvalidInput
from control_plane.routing import CurrentTenant, Db, IdParam, get
from ui.admin.web import PERIOD_PICKER, Chosen, PageNumber, page, page_window, paged

Text = Annotated[str, QueryParameter(max_length=200)]


def _min_mos(value: str) -> float | None:
    if not value:
        return None
    try:
        found = float(value)
    except ValueError:
        raise InvalidInput(f"the minimum MOS must be a number from 1 to 4.5, not {value[:20]!r}") from None
    if not 1.0 <= found <= 4.5:
        raise InvalidInput("the minimum MOS must be from 1 to 4.5")
    return found


class CallPages(Controller):
    path = "/ui/calls"
    include_in_schema = False
    guards = requires(Permission.READ)
    dependencies = PERIOD_PICKER

    @get("/")
    def calls(
        self,
        db: Db,
        tenant: CurrentTenant,
        request: AnyRequest,
        chosen: Chosen,
        participant: Text = "",
        min_mos: Annotated[str, QueryParameter(max_length=20)] = "",
        call_type: Text = "",
        page_number: PageNumber = 1,
    ) -> Template:
        filters = CallFilter(participant or None, _min_mos(min_mos), call_type or None)
        limit, offset = page_window(page_number)
        found = list_calls(db, tenant.organization_id, chosen.period, filters, limit=limit, offset=offset)
        rows, pager = paged(request, found, page_number)
        return page(
            request,
            db,
            "calls.html",
            rows=rows,
            **pager,
            chosen=chosen,
            picked={"participant": participant, "min_mos": min_mos, "call_type": call_type},
            types=call_types(db, tenant.organization_id),
        )

    @get("/{call_id:int}")
    def call(self, db: Db, tenant: CurrentTenant, call_id: IdParam, request: AnyRequest) -> Template:
        detail = call_detail(db, tenant.organization_id, call_id)
        series = {
            f"p{index}": {
                "at": p.timeline.at,
                "mos": p.timeline.mos,
                "jitter": p.timeline.jitter_ms,
                "loss": p.timeline.loss_percent,
                "rtt": p.timeline.rtt_ms,
                "bitrate": p.timeline.bitrate_kbps,
            }
            for index, p in enumerate(detail.participants)
        }
        return page(
            request,
            db,
            "call.html",
            detail=detail,
            charts=json.dumps(series).replace("<", "\\u003c"),
        )
