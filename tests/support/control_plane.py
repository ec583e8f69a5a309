"""A control plane served for tests that send it real telemetry (its gRPC server on a free port)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import TestClient

from tests.control_plane.helpers import Account


@dataclass
class ControlPlane:
    app: Litestar
    client: TestClient[Litestar]
    acme: Account

    @property
    def telemetry_target(self) -> str:
        return f"127.0.0.1:{self.app.state.telemetry_server.port}"
