"""Telemetry while PostgreSQL is unreachable: engines keep their records, and once it is back
every one is stored, and counted in the rollups, exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from control_plane.analytics import service
from control_plane.analytics.controller import period
from control_plane.app import create_app
from control_plane.state import app_state
from settings import Settings
from telemetry.grpc_reporter import GrpcTelemetryReporter
from tests.control_plane.helpers import owner
from tests.control_plane.test_telemetry import assert_call_analytics, call_records, report_all, telemetry_port
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def database_behind_a_proxy(settings: Settings) -> Iterator[tuple[Litestar, TcpProxy]]:
    if settings.database_url is None:
        pytest.skip("the embedded SQLite file cannot go away; this is about a database server")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"telemetry_port": 0, "database_url": proxied}), migrate=False)
    with TestClient(app):
        yield app, proxy
    proxy.close()


@pytest.mark.slow
def test_every_sample_is_counted_once_across_a_database_outage(
    database_behind_a_proxy: tuple[Litestar, TcpProxy], tmp_path: Path
) -> None:
    app, proxy = database_behind_a_proxy
    acme = owner(app)
    key = acme.key("telemetry")
    target = f"127.0.0.1:{telemetry_port(app)}"
    reporter = GrpcTelemetryReporter(target, key, tmp_path / "journal.db", max_backoff_s=0.2, rpc_timeout_s=2)
    first, second = call_records("standup", time.time() - 3600)
    report_all(reporter, first)
    assert reporter.flush(10)

    proxy.cut()  # the database stops mid-call: the control plane refuses batches, the engine keeps them
    report_all(reporter, second)
    assert not reporter.flush(2.0)
    assert reporter.journal.pending_count() == len(second)

    proxy.restore()
    assert reporter.flush(30), "the journal did not drain once the database was back"
    assert reporter.journal.pending_count() == 0 and reporter.journal.rejected_count() == 0
    asyncio.run(reporter.aclose())
    again = GrpcTelemetryReporter(target, key, tmp_path / "again.db")  # an engine that lost its acknowledgements
    report_all(again, first + second)
    assert again.flush(10)
    asyncio.run(again.aclose())

    assert_call_analytics(acme)
    with app_state(app.state).session() as db:
        whole = period(None, None)
        rolled = service.overview(db, acme.organization_id, whole).model_dump()
        raw = service.overview(db, acme.organization_id, whole, use_rollups=False).model_dump()
    assert rolled == raw
