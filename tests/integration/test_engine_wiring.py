"""How `auralink serve engine` is put together from settings: reporter and routes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from auralink.calls import LoggingReporter, call_server_options, engine_app, engine_reporter
from pipeline.calls.server import CallServer
from settings import Settings, SettingsError
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import FanOutReporter


def settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(data_dir=tmp_path, join_token_secret=SecretStr("s" * 32), **changes)  # type: ignore[arg-type]


def test_without_a_control_plane_the_engine_only_logs(tmp_path: Path) -> None:
    assert isinstance(engine_reporter(settings(tmp_path)), LoggingReporter)


def test_with_a_control_plane_the_engine_also_journals_and_reports_there(tmp_path: Path) -> None:
    reporter = engine_reporter(settings(tmp_path, telemetry_target="127.0.0.1:9", telemetry_api_key="alk_x_y"))
    assert isinstance(reporter, FanOutReporter)
    assert any(isinstance(each, GrpcTelemetryReporter) for each in reporter.reporters)
    asyncio.run(reporter.aclose())
    assert any(path.name.startswith("telemetry-journal") for path in tmp_path.iterdir()), "journal in data_dir"


def test_a_target_without_an_api_key_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AURALINK_TELEMETRY_API_KEY"):
        engine_reporter(settings(tmp_path, telemetry_target="127.0.0.1:9"))


def test_the_engine_serves_the_speech_websockets_beside_the_calls(tmp_path: Path) -> None:
    config = settings(tmp_path)
    app = engine_app(CallServer(call_server_options(config), LoggingReporter()), config)
    paths = {route.path for route in app.routes}
    assert {"/ws/stt", "/ws/translate", "/whip/{room:str}"} <= paths
