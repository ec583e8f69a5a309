"""Wiring the speech endpoints from settings (used by `serve engine` and `serve speech`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from settings import Settings

if TYPE_CHECKING:
    from pipeline.speech.ws import SpeechServiceConfig


def speech_config(settings: Settings) -> SpeechServiceConfig:
    """The speech WebSocket endpoints' configuration from the process settings."""
    from pipeline.speech.ws import SpeechServiceConfig

    return SpeechServiceConfig(
        models_dir=settings.speech_models_dir,
        model=settings.stt_model,
        device=settings.stt_device,
        compute_type=settings.stt_compute_type,
        max_message_bytes=settings.speech_ws_max_message_bytes,
        max_backlog_s=settings.speech_ws_max_backlog_s,
    )
