"""Live pipeline stats and captions: an engine's reporter → ``LiveTelemetry`` → the live store, kept apart per
organisation, bounded, and forgotten on erasure; on SQLite with the in-process store and on PostgreSQL with
Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from control_plane.state import app_state
from control_plane.telemetry.live import CAPTIONS_PER_ROOM, STALE_AFTER_S, LivePipelineStore
from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from settings import Settings
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.live_wire import live_to_proto
from telemetry.records import Caption, PipelineStats, StageLiveStats
from tests.control_plane.helpers import owner
from tests.support.waiting import eventually_sync


@pytest.fixture
def live_app(settings: Settings) -> Iterator[Litestar]:
    app = create_app(settings.model_copy(update={"telemetry_port": 0}), migrate=False)
    with TestClient(app):
        yield app


def target(app: Litestar) -> str:
    return f"127.0.0.1:{app.state.telemetry_server.port}"


def stats(room: str, participant: str, at: float | None = None, dropped: int = 0) -> PipelineStats:
    stages = (
        StageLiveStats("participant", "webrtc_source", 0, 250),
        StageLiveStats("stt", "stt", 250, 3, dropped, 0, 0, 2, 1.2, 40.0),
        StageLiveStats("captions", "datachannel_sink", 3, 0, 0, 0, 0, 0, 0.05, 0.1, 640.0, 910.0),
    )
    return PipelineStats(room, participant, "room-captions", stages, at=time.time() if at is None else at)


def test_an_engines_live_reports_reach_only_its_organisation(live_app: Litestar, tmp_path: Path) -> None:
    acme, beta = owner(live_app, "Acme"), owner(live_app, "Beta")
    store = app_state(live_app.state).live
    reporter = GrpcTelemetryReporter(target(live_app), acme.key("telemetry"), tmp_path / "journal.sqlite3")
    reporter.report_live(stats("standup", "alice", dropped=4))
    reporter.report_live(Caption("standup", "alice", "we should consider the power budget", confidence=0.93))
    reporter.report_live(Caption("standup", "alice", "devemos considerar", kind="translation", language="pt"))
    try:
        eventually_sync(lambda: len(store.room(acme.organization_id, "standup").captions) == 2, what="captions")
    finally:
        asyncio.run(reporter.aclose())
    seen = store.room(acme.organization_id, "standup")
    assert [p.participant for p in seen.pipelines] == ["alice"]
    assert seen.pipelines[0].stages[1].dropped == 4 and seen.pipelines[0].stages[2].latency_p95_ms == 910.0
    assert [c.text for c in seen.captions] == ["we should consider the power budget", "devemos considerar"]
    assert seen.captions[0].confidence == 0.93 and seen.captions[1].language == "pt"
    other = store.room(beta.organization_id, "standup")
    assert other.pipelines == [] and other.captions == []
    assert reporter.live_sent == 3


def test_the_live_service_checks_keys_and_records(live_app: Litestar) -> None:
    acme = owner(live_app)
    channel = grpc.insecure_channel(target(live_app))
    stub = pb_grpc.LiveTelemetryStub(channel)
    good = live_to_proto(Caption("standup", "alice", "hello"))
    bad = live_to_proto(Caption("standup", "alice", "x" * 1001))
    no_speaker = live_to_proto(Caption("standup", "", "hello"))
    request = pb.LiveReportRequest(records=[good, bad, no_speaker])
    with pytest.raises(grpc.RpcError) as anonymous:
        stub.ReportLive(request, timeout=5)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as read_only:
        stub.ReportLive(request, timeout=5, metadata=(("authorization", f"Bearer {acme.key('read')}"),))
    assert read_only.value.code() == grpc.StatusCode.PERMISSION_DENIED
    response = stub.ReportLive(request, timeout=5, metadata=(("authorization", f"Bearer {acme.key('telemetry')}"),))
    assert response.accepted == 1
    assert [r.index for r in response.rejected] == [1, 2]
    assert "caption.text" in response.rejected[0].reason and "at most 1000 characters" in response.rejected[0].reason
    assert "caption.speaker" in response.rejected[1].reason
    channel.close()


def test_the_store_keeps_the_last_captions_and_only_fresh_pipelines(live_app: Litestar) -> None:
    store: LivePipelineStore = app_state(live_app.state).live
    organization = 10_000 + int(time.time() * 1000) % 100_000  # no other test reports for it
    now = time.time()
    store.add(organization, [Caption("r", "alice", f"line {n}", at=now) for n in range(CAPTIONS_PER_ROOM + 5)])
    store.add(organization, [stats("r", "alice"), stats("r", "bob", at=now - STALE_AFTER_S - 1)])
    store.add(organization, [stats("r", "alice", dropped=7)])  # the latest of a pipeline replaces the earlier
    seen = store.room(organization, "r")
    assert [c.text for c in seen.captions] == [f"line {n}" for n in range(5, CAPTIONS_PER_ROOM + 5)]
    assert [(p.participant, p.stages[1].dropped) for p in seen.pipelines] == [("alice", 7)]
    assert store.room(organization, "r", since=now + 1).captions == []  # a later call in a room of that name
    assert store.room(organization, "another").captions == []


def test_an_erasure_forgets_the_persons_live_captions(live_app: Litestar) -> None:
    store: LivePipelineStore = app_state(live_app.state).live
    organization = 200_000 + int(time.time() * 1000) % 100_000
    store.add(organization, [Caption("r", "alice", "mine"), Caption("r", "bob", "his"), stats("r", "alice")])
    assert store.forget({"alice"}) >= 2
    seen = store.room(organization, "r")
    assert [c.speaker for c in seen.captions] == ["bob"] and seen.pipelines == []


def test_live_reports_have_a_rate_budget_of_their_own(live_app: Litestar) -> None:
    acme = owner(live_app)
    metadata = (("authorization", f"Bearer {acme.key('telemetry', requests_per_minute=2)}"),)
    channel = grpc.insecure_channel(target(live_app))
    live = pb.LiveReportRequest(records=[live_to_proto(Caption("standup", "alice", "hello"))])
    stub = pb_grpc.LiveTelemetryStub(channel)
    assert [stub.ReportLive(live, timeout=5, metadata=metadata).accepted for _ in range(2)] == [1, 1]
    with pytest.raises(grpc.RpcError) as limited:
        stub.ReportLive(live, timeout=5, metadata=metadata)
    assert limited.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "2/min" in str(limited.value.details())
    stored = pb_grpc.TelemetryStub(channel).Report(pb.ReportRequest(), timeout=5, metadata=metadata)
    assert stored.accepted == 0 and not stored.rejected  # the stored records' budget is untouched
    channel.close()
