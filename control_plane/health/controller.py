"""``/health/live`` and ``/health/ready`` (``/metrics`` comes from the Prometheus plugin)."""

from __future__ import annotations

from litestar import Controller, Response
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from control_plane.health.schemas import Liveness, Readiness
from control_plane.health.service import readiness
from control_plane.routing import PUBLIC, get
from control_plane.state import app_state


class HealthController(Controller):
    path = "/health"
    tags = ("health",)
    opt = PUBLIC

    @get("/live", summary="The process is up")
    def live(self) -> Liveness:
        return Liveness(status="alive")

    @get(
        "/ready",
        summary="Database, Redis and the secret store answer (503 when one does not), with latencies",
        responses={503: ResponseSpec(data_container=Readiness, description="a dependency is failing")},
    )
    def ready(self, state: State) -> Response[Readiness]:
        report = readiness(app_state(state))
        return Response(report, status_code=200 if report.status == "ready" else 503)
