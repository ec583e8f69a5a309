"""Wiring the call server from settings: ICE, the room pipeline, telemetry (and the join-token secret)."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.calls.server import CallServer, CallServerOptions
from pipeline.webrtc.ice import IceConfigError, IcePolicy, apply_host_addresses
from settings import Settings, SettingsError, join_token_secret
from telemetry.records import (
    CallEvent,
    FanOutReporter,
    QualitySample,
    TelemetryRecord,
    TelemetryReporter,
    record_to_json,
)

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("auralink.calls")

ROOM_PIPELINE = "room_captions.yaml"
LEVELS_PIPELINE = "room_levels.yaml"
NOISY_LOGGERS = ("aioice", "aiortc", "httpx")


def bundled_room_pipeline(name: str = ROOM_PIPELINE) -> Path:
    """A room pipeline shipped with AuraLink: live captions by default, or levels only (``LEVELS_PIPELINE``)."""
    return Path(str(files("pipeline") / "examples" / name))


def ice_policy(settings: Settings) -> IcePolicy:
    credential = settings.ice_credential.get_secret_value() if settings.ice_credential else None
    try:
        return IcePolicy.from_settings(
            settings.ice_servers,
            settings.ice_username,
            credential,
            settings.ice_host_addresses,
            settings.ice_remote_networks,
        )
    except IceConfigError as error:
        raise SettingsError(str(error)) from None


def call_server_options(settings: Settings, room_pipeline: Path | None = None) -> CallServerOptions:
    """Options for a :class:`~pipeline.calls.server.CallServer`; also applies the process-wide ICE hook."""
    ice = ice_policy(settings)
    apply_host_addresses(ice.host_addresses)
    if settings.log_level != "debug":
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    return CallServerOptions(
        secret=join_token_secret(settings),
        ice=ice,
        room_pipeline=room_pipeline or settings.room_pipeline or bundled_room_pipeline(),
        max_participants=settings.room_max_participants,
        quality_interval_s=settings.quality_interval_s,
        usage_checkpoint_s=settings.usage_checkpoint_s,
        connect_timeout_s=settings.call_connect_timeout_s,
        room_idle_timeout_s=settings.room_idle_timeout_s,
    )


class LoggingReporter:
    """The default telemetry reporter: call events at info, quality samples at debug."""

    def report(self, record: TelemetryRecord) -> None:
        level = logging.DEBUG if isinstance(record, QualitySample) else logging.INFO
        if isinstance(record, CallEvent):
            log.log(level, "%s room=%s participant=%s", record.type, record.room, record.participant or "-")
        else:
            log.log(level, "%s", record_to_json(record))

    async def aclose(self) -> None:
        return None


def engine_reporter(settings: Settings) -> TelemetryReporter:
    """Logs every record and, when ``telemetry_target`` names a control plane, reports there too.

    The gRPC reporter journals to ``data_dir`` first, so records survive an unreachable control plane
    and an engine restart.
    """
    if not settings.telemetry_target:
        return LoggingReporter()
    if not settings.telemetry_api_key:
        raise SettingsError(
            "telemetry_target is set but telemetry_api_key is not: create an API key with the 'telemetry' "
            "scope in the control plane and set AURALINK_TELEMETRY_API_KEY"
        )
    from telemetry.grpc_reporter import reporter_from_settings

    api_key = settings.telemetry_api_key.get_secret_value()
    remote = reporter_from_settings(settings.telemetry_target, api_key, settings.data_dir)
    return FanOutReporter(LoggingReporter(), remote)


def engine_app(server: CallServer, settings: Settings) -> Litestar:
    """The engine's HTTP app: calls, the call page, and the speech WebSocket endpoints beside them."""
    from auralink.speech import speech_config
    from pipeline.calls.http import create_engine_app
    from pipeline.speech.ws import speech_routes

    speech = speech_routes(speech_config(settings), server.reporter)
    return create_engine_app(server, extra_routes=[speech], cors_origins=settings.engine_cors_origins)
