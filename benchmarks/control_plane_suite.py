"""The control plane at scale (``auralink bench control-plane``).

One organisation's history — 1 million calls, 10 million quality samples, 3 million
usage events (``--quick``: 10,000 calls) — is COPYed into a scratch PostgreSQL
database. Each analytics endpoint is then timed over HTTP against a real server
(uvicorn), and the SQL it ran is replayed directly through psycopg: the ratio of the
two is the API's overhead. Telemetry ingestion is timed through the engine's gRPC
reporter and through four concurrent engines. The scratch database is dropped after.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx
import psycopg
import uvicorn
from sqlalchemy import event

from benchmarks.control_plane_data import SPAN_DAYS, load
from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from control_plane.app import create_app
from control_plane.db.migrate import upgrade
from control_plane.state import app_state
from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from settings import Settings
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import QualitySample
from telemetry.wire import to_proto
from ui.admin import AdminUiPlugin

ADMIN_URL = os.environ.get("AURALINK_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
P99_TARGET_MS = 100.0
OVERHEAD_TARGET = 1.5
INGEST_TARGET = 20_000.0
_AUTH_TABLES = ("FROM api_key", "UPDATE api_key", "FROM user_session", "FROM membership \nWHERE membership.user_id")


@register_suite("control-plane")
def control_plane_suite(options: BenchOptions) -> SuiteResult:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    calls = 10_000 if options.quick else round(1_000_000 * options.scale)
    rounds = 5 if options.quick else 30  # p99 of 30 rounds (after 1 warm-up) is their worst but one
    figures: list[Figure] = []
    notes: list[str] = []
    with _scratch_database() as url, _serving(url) as (base, app, grpc_port):
        api = _Api(base)
        loaded = load(url, api.organization_id, calls, span_days=SPAN_DAYS * options.scale)
        notes.append(
            f"loaded {loaded.calls:,} calls, {loaded.samples:,} quality samples, {loaded.usage_events:,} usage events,"
            f" {loaded.participants:,} participants over {SPAN_DAYS * options.scale:g} days with COPY"
            f" in {loaded.seconds:.1f} s;"
            f" hourly rollups aggregated from them in {loaded.rollup_seconds:.1f} s"
        )
        figures.append(Figure("load_seconds", round(loaded.seconds, 1), "s", better="info"))
        figures.append(Figure("rollup_build_seconds", round(loaded.rollup_seconds, 1), "s", better="info"))
        capture = _Capture(app)
        with psycopg.connect(url) as raw:
            for name, path in api.endpoints(url).items():
                figures += _measure(name, path, api, capture, raw, rounds)
        figures += _ingestion(api, grpc_port, 20_000 if options.quick else 200_000)
    return stamp(SuiteResult("control-plane", figures, notes=notes), "litestar", "sqlalchemy", "psycopg", "grpcio")


class _Api:
    """A signed-up owner of the benchmarked organisation, with API keys."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=120)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        self.client.post("/users", json={"email": email, "name": "Bench", "password": "benchmark password"})
        self.client.post("/auth/login", json={"email": email, "password": "benchmark password"})
        self.organization_id = int(self.client.post("/organizations", json={"name": "Bench"}).json()["id"])
        self.key = self._key("admin")
        self.telemetry_key = self._key("telemetry")
        self.client.cookies.clear()
        self.client.headers["Authorization"] = f"Bearer {self.key}"

    def _key(self, scope: str) -> str:
        body = {"name": scope, "scopes": [scope], "requests_per_minute": 1_000_000}
        return str(self.client.post("/api-keys", json=body).json()["key"])

    def endpoints(self, url: str) -> dict[str, str]:
        definition = {"dataset": "quality", "measures": ["samples", "avg_mos"], "dimensions": ["connection_type"]}
        report = self.client.post("/reports", json={"name": "mos by connection", "definition": definition}).json()
        with psycopg.connect(url) as connection:
            row = connection.execute('SELECT max(id) FROM "call"').fetchone()
        some_call = int(row[0]) if row and row[0] else 1
        return {
            "overview": "/analytics/overview",
            "quality": "/analytics/quality",
            "quality_one_call": f"/analytics/quality?call_id={some_call}",
            "usage": "/analytics/usage",
            "usage_timeline": "/analytics/usage/timeline?granularity=day",
            "report": f"/reports/{report['id']}/run",
            "realtime": "/analytics/realtime",
        }


class _Capture:
    """The SQL statements the app sends while one request runs (authentication's own excluded)."""

    def __init__(self, app: Any) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.recording = False
        event.listen(app_state(app.state).engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if self.recording and not any(marker in statement for marker in _AUTH_TABLES):
            self.statements.append((statement, parameters))

    def during(self, action: Callable[[], None]) -> list[tuple[str, Any]]:
        self.statements, self.recording = [], True
        try:
            action()
        finally:
            self.recording = False
        return self.statements


def _measure(
    name: str, path: str, api: _Api, capture: _Capture, raw: psycopg.Connection[Any], rounds: int
) -> list[Figure]:
    def call() -> None:
        response = api.client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"

    statements = capture.during(call)
    api_ms = _timed(call, rounds)

    def replay() -> None:
        for statement, parameters in statements:
            raw.execute(statement, parameters).fetchall()

    raw_ms = _timed(replay, rounds) if statements else [0.0]
    p50, p99, raw_p50 = _percentile(api_ms, 50), _percentile(api_ms, 99), _percentile(raw_ms, 50)
    return [
        Figure(f"{name}_p50_ms", round(p50, 2), "ms"),
        Figure(f"{name}_p99_ms", round(p99, 2), "ms", target=P99_TARGET_MS),
        Figure(f"{name}_raw_sql_p50_ms", round(raw_p50, 2), "ms", better="info", note=f"{len(statements)} statements"),
        Figure(
            f"{name}_api_overhead_ratio",
            round(p50 / raw_p50, 3) if raw_p50 > 0 else 1.0,
            "x",
            target=OVERHEAD_TARGET if statements else None,
        ),
    ]


def _timed(action: Callable[[], None], rounds: int) -> list[float]:
    action()  # warm caches
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] if percent < 100 else max(values)


def _samples(room: str, count: int) -> Iterator[QualitySample]:
    now = time.time()
    for index in range(count):
        yield QualitySample(room, f"p{index % 50}", "audio", 10.0, 0, 0.0, 30.0, 48.0, 4.2, at=now - count + index)


def _ingestion(api: _Api, grpc_port: int, count: int) -> list[Figure]:
    target = f"127.0.0.1:{grpc_port}"
    with tempfile.TemporaryDirectory() as scratch:
        reporter = GrpcTelemetryReporter(target, api.telemetry_key, Path(scratch) / "journal.db", batch_size=2000)
        started = time.perf_counter()
        for sample in _samples("ingest-reporter", count):
            reporter.report(sample)
        assert reporter.flush(600), "the reporter did not deliver everything"
        reporter_rate = count / (time.perf_counter() - started)
        asyncio.run(reporter.aclose())
    metadata = (("authorization", f"Bearer {api.telemetry_key}"),)

    def engine(worker: int) -> None:
        stub = pb_grpc.TelemetryStub(grpc.insecure_channel(target))
        batch: list[pb.TelemetryRecord] = []
        for sample in _samples(f"ingest-engine-{worker}", count // 4):
            batch.append(to_proto(sample))
            if len(batch) == 1000:
                stub.Report(pb.ReportRequest(records=batch), metadata=metadata, timeout=120)
                batch = []
        if batch:
            stub.Report(pb.ReportRequest(records=batch), metadata=metadata, timeout=120)

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(engine, range(4)))
    concurrent_rate = (count // 4 * 4) / (time.perf_counter() - started)
    return [
        Figure(
            "ingest_reporter_samples_per_s", round(reporter_rate), "samples/s", better="higher", target=INGEST_TARGET
        ),
        Figure(
            "ingest_4_engines_samples_per_s", round(concurrent_rate), "samples/s", better="higher", target=INGEST_TARGET
        ),
    ]


@contextmanager
def _scratch_database() -> Iterator[str]:
    name = f"auralink_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1))
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _serving(url: str, with_ui: bool = False) -> Iterator[tuple[str, Any, int]]:
    """The control plane on ``url`` served by uvicorn in a thread (with the admin UI when ``with_ui``)."""
    port, grpc_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url=url, telemetry_port=grpc_port, log_level="warning")
        app = create_app(settings, migrate=False, extra=[AdminUiPlugin(settings)] if with_ui else [])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", app, grpc_port
        finally:
            server.should_exit = True
            thread.join(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
