"""Wiring the call server from settings: the join-token secret, ICE, the room pipeline, telemetry."""

from __future__ import annotations

import logging
import os
import secrets
from importlib.resources import files
from pathlib import Path

from auralink.settings import Settings, SettingsError
from engine.telemetry import CallEvent, QualitySample, TelemetryRecord, record_to_json
from pipeline.calls.server import CallServerOptions
from pipeline.calls.tokens import MIN_SECRET_BYTES
from pipeline.webrtc.ice import IceConfigError, IcePolicy, apply_host_addresses

log = logging.getLogger("auralink.calls")

SECRET_FILE = "join-token.secret"
ROOM_PIPELINE = "room_levels.yaml"
NOISY_LOGGERS = ("aioice", "aiortc", "httpx")


def join_token_secret(settings: Settings) -> str:
    """The configured secret, else the one kept in the data directory (created on first use, mode 600)."""
    if settings.join_token_secret is not None:
        secret = settings.join_token_secret.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"join_token_secret must be at least {MIN_SECRET_BYTES} bytes")
        return secret
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    log.info("generated a join-token secret in %s", path)
    return path.read_text().strip()


def bundled_room_pipeline() -> Path:
    return Path(str(files("pipeline") / "examples" / ROOM_PIPELINE))


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
