from __future__ import annotations

from typing import Literal

from control_plane.schemas import Output


class Check(Output):
    status: Literal["ok", "failing", "not configured"]
    latency_ms: float | None = None
    detail: str = ""


class Readiness(Output):
    status: Literal["ready", "not ready"]
    checks: dict[str, Check]


class Liveness(Output):
    status: Literal["alive"]
