"""Telemetry end to end: an engine's gRPC reporter → the control plane → analytics, through an outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from control_plane.analytics import service
from control_plane.analytics.controller import period
from control_plane.app import create_app
from control_plane.state import app_state
from control_plane.telemetry.grpc_server import TelemetryServer
from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from settings import Settings
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import CallEvent, QualitySample, TelemetryRecord, UsageEvent
from telemetry.wire import to_proto
from tests.control_plane.helpers import Account, owner
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def live_app(settings: Settings) -> Iterator[tuple[Litestar, TestClient[Litestar]]]:
    app = create_app(settings.model_copy(update={"telemetry_port": 0}), migrate=False)
    with TestClient(app) as client:
        yield app, client


def telemetry_port(app: Litestar) -> int:
    server = app.state.telemetry_server
    assert isinstance(server, TelemetryServer)
    return server.port


def sample(room: str, who: str, at: float, mos: float = 4.2, connection: str = "wifi") -> QualitySample:
    return QualitySample(
        room=room,
        participant=who,
        media="audio",
        jitter_ms=12.0,
        packets_lost=1,
        loss_fraction=0.01,
        rtt_ms=40.0,
        bitrate_kbps=48.0,
        mos=mos,
        connection_type=connection,
        at=at,
        frames_per_second=50.0,
    )


def call_records(room: str, start: float) -> tuple[list[TelemetryRecord], list[TelemetryRecord]]:
    """A two-person call of 120 s: what happens before and after the outage."""
    first: list[TelemetryRecord] = [
        CallEvent("room-opened", room, at=start, attributes={"call_type": "video"}),
        CallEvent("participant-joined", room, "alice", at=start + 1),
        CallEvent("participant-joined", room, "bob", at=start + 2),
        *(sample(room, who, start + 5 + i) for i in range(10) for who in ("alice", "bob")),
        UsageEvent("stt_audio_seconds", 60.0, room, "alice", feature="stt", provider="whisper-tiny.en", at=start + 60),
    ]
    second: list[TelemetryRecord] = [
        *(sample(room, "alice", start + 70 + i, mos=3.0, connection="cellular") for i in range(10)),
        UsageEvent("translation_characters", 5000, room, "bob", feature="translate", provider="nllb", at=start + 90),
        CallEvent("participant-left", room, "bob", at=start + 100),
        CallEvent("participant-left", room, "alice", at=start + 110),
        CallEvent("room-closed", room, at=start + 120),
    ]
    return first, second


def report_all(reporter: GrpcTelemetryReporter, records: list[TelemetryRecord]) -> None:
    for record in records:
        reporter.report(record)


@pytest.mark.slow
def test_nothing_is_lost_or_counted_twice_across_an_outage(
    live_app: tuple[Litestar, TestClient[Litestar]], tmp_path: Path
) -> None:
    app, _ = live_app
    acme = owner(app)
    port = telemetry_port(app)
    reporter = GrpcTelemetryReporter(
        f"127.0.0.1:{port}", acme.key("telemetry"), tmp_path / "journal.db", max_backoff_s=0.2, rpc_timeout_s=1
    )
    start = time.time() - 3600
    first, second = call_records("standup", start)
    report_all(reporter, first)
    assert reporter.flush(10)
    live = acme.client.get("/analytics/realtime").json()
    assert (live["active_calls"], live["participants"]) == (1, 2)

    app.state.telemetry_server.stop(0)  # the control plane's telemetry goes away mid-call
    report_all(reporter, second)
    assert not reporter.flush(1.0)
    assert reporter.journal.pending_count() == len(second)

    restarted = TelemetryServer(app_state(app.state), "127.0.0.1", port)
    restarted.start()
    app.state.telemetry_server = restarted
    assert reporter.flush(15)
    asyncio.run(reporter.aclose())

    # an engine that lost its acknowledgements sends everything again: nothing is counted twice
    again = GrpcTelemetryReporter(f"127.0.0.1:{port}", acme.key("telemetry"), tmp_path / "again.db")
    report_all(again, first + second)
    assert again.flush(10)
    asyncio.run(again.aclose())

    assert_call_analytics(acme)


def assert_call_analytics(acme: Account) -> None:
    overview = acme.client.get("/analytics/overview").json()
    assert overview["calls"] == 1 and overview["minutes"] == pytest.approx(2.0)
    assert overview["participants"] == 2
    assert overview["call_types"] == [{"call_type": "video", "calls": 1, "minutes": pytest.approx(2.0)}]
    assert overview["quality"]["samples"] == 30
    assert overview["quality"]["min_mos"] == pytest.approx(3.0)
    by_connection = {c["connection_type"]: c for c in overview["quality_by_connection"]}
    assert by_connection["wifi"]["samples"] == 20 and by_connection["cellular"]["samples"] == 10
    assert [(u["participant"], u["minutes"]) for u in overview["top_users"]] == [
        ("alice", pytest.approx(109 / 60, abs=1e-3)),
        ("bob", pytest.approx(98 / 60, abs=1e-3)),
    ]
    expected_cost = 60 * 0.006 / 60 + 5000 * 20 / 1e6
    assert overview["cost_usd"] == pytest.approx(expected_cost)
    usage = acme.client.get("/analytics/usage").json()
    assert {(p["provider"], p["events"]) for p in usage["by_provider"]} == {("whisper-tiny.en", 1), ("nllb", 1)}
    quality = acme.client.get("/analytics/quality", params={"participant": "alice"}).json()
    assert quality["summary"]["samples"] == 20
    live = acme.client.get("/analytics/realtime").json()
    assert (live["active_calls"], live["participants"]) == (0, 0)


def test_a_restarted_engine_replays_its_journal(
    live_app: tuple[Litestar, TestClient[Litestar]], tmp_path: Path
) -> None:
    app, _ = live_app
    acme = owner(app)
    key = acme.key("telemetry")
    unreachable = GrpcTelemetryReporter("127.0.0.1:9", key, tmp_path / "journal.db", rpc_timeout_s=0.5)
    start = time.time() - 600
    first, second = call_records("replayed", start)
    report_all(unreachable, first + second)
    asyncio.run(unreachable.aclose(timeout_s=0.5))  # the engine stops before the control plane is back

    restarted = GrpcTelemetryReporter(f"127.0.0.1:{telemetry_port(app)}", key, tmp_path / "journal.db")
    assert restarted.pending() == len(first) + len(second)
    assert restarted.flush(10)
    asyncio.run(restarted.aclose())
    assert_call_analytics(acme)


def test_the_service_checks_keys_and_records(live_app: tuple[Litestar, TestClient[Litestar]]) -> None:
    app, _ = live_app
    acme = owner(app)
    channel = grpc.insecure_channel(f"127.0.0.1:{telemetry_port(app)}")
    stub = pb_grpc.TelemetryStub(channel)
    good = to_proto(sample("room", "alice", time.time()))
    bad = to_proto(sample("room", "alice", time.time(), mos=9.0))
    request = pb.ReportRequest(records=[good, bad])
    with pytest.raises(grpc.RpcError) as anonymous:
        stub.Report(request, timeout=5)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as read_only:
        stub.Report(request, timeout=5, metadata=(("authorization", f"Bearer {acme.key('read')}"),))
    assert read_only.value.code() == grpc.StatusCode.PERMISSION_DENIED
    metadata = (("authorization", f"Bearer {acme.key('telemetry')}"),)
    response = stub.Report(request, timeout=5, metadata=metadata)
    assert (response.accepted, response.duplicates) == (1, 0)
    assert [r.index for r in response.rejected] == [1] and "mos" in response.rejected[0].reason
    assert stub.Report(request, timeout=5, metadata=metadata).duplicates == 1
    channel.close()


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


@dataclass
class MidCall:
    """An engine halfway through a call: the first half delivered, the second still to report."""

    acme: Account
    key: str
    target: str
    reporter: GrpcTelemetryReporter
    first: list[TelemetryRecord]
    second: list[TelemetryRecord]


def mid_call(app: Litestar, room: str, journal: Path, rpc_timeout_s: float) -> MidCall:
    acme = owner(app)
    key = acme.key("telemetry")
    target = f"127.0.0.1:{telemetry_port(app)}"
    reporter = GrpcTelemetryReporter(target, key, journal, max_backoff_s=0.2, rpc_timeout_s=rpc_timeout_s)
    first, second = call_records(room, time.time() - 3600)
    report_all(reporter, first)
    assert reporter.flush(10)
    return MidCall(acme, key, target, reporter, first, second)


def assert_drained_and_counted_once(app: Litestar, call: MidCall) -> None:
    assert call.reporter.journal.pending_count() == 0 and call.reporter.journal.rejected_count() == 0
    asyncio.run(call.reporter.aclose())
    assert_call_analytics(call.acme)
    with app_state(app.state).session() as db:
        whole = period(None, None)
        rolled = service.overview(db, call.acme.organization_id, whole).model_dump()
        raw = service.overview(db, call.acme.organization_id, whole, use_rollups=False).model_dump()
    assert rolled == raw


@pytest.mark.slow
def test_every_sample_is_counted_once_across_a_database_outage(
    database_behind_a_proxy: tuple[Litestar, TcpProxy], tmp_path: Path
) -> None:
    app, proxy = database_behind_a_proxy
    call = mid_call(app, "standup", tmp_path / "journal.db", rpc_timeout_s=2)
    reporter = call.reporter

    proxy.cut()  # the database stops mid-call: the control plane refuses batches, the engine keeps them
    report_all(reporter, call.second)
    assert not reporter.flush(2.0)
    assert reporter.journal.pending_count() == len(call.second)

    proxy.restore()
    assert reporter.flush(30), "the journal did not drain once the database was back"
    again = GrpcTelemetryReporter(call.target, call.key, tmp_path / "again.db")  # an engine that lost its acks
    report_all(again, call.first + call.second)
    assert again.flush(10)
    asyncio.run(again.aclose())
    assert_drained_and_counted_once(app, call)


@pytest.mark.slow
def test_a_slow_database_pushes_batches_back_into_the_engines_journal(
    live_app: tuple[Litestar, TestClient[Litestar]], settings: Settings, tmp_path: Path
) -> None:
    """The samples table is locked (a database too slow to write): batches wait, the service refuses those
    beyond twice its workers, the engine keeps everything in its journal and it drains, counted once."""
    if settings.database_url is None:
        pytest.skip("the embedded SQLite file is not shared with a second client here; this is about a server")
    app, _ = live_app
    call = mid_call(app, "slow", tmp_path / "journal.db", rpc_timeout_s=1)
    reporter = call.reporter
    stub = pb_grpc.TelemetryStub(grpc.insecure_channel(call.target))
    flood = pb.ReportRequest(records=[to_proto(record) for record in call.second])

    def send() -> grpc.StatusCode:
        try:
            stub.Report(flood, timeout=60, metadata=(("authorization", f"Bearer {call.key}"),))
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    plain = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as blocker, ThreadPoolExecutor(12) as pool:
        blocker.execute("LOCK TABLE quality_sample IN EXCLUSIVE MODE")  # reads go on, writes wait
        report_all(reporter, call.second)
        assert not reporter.flush(3.0)
        assert reporter.journal.pending_count() == len(call.second)
        sent = [pool.submit(send) for _ in range(12)]
        time.sleep(1.0)
        blocker.rollback()
        codes = [future.result() for future in sent]
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert reporter.flush(30), "the journal did not drain once the database was fast again"
    assert_drained_and_counted_once(app, call)
