"""Binding a pipeline file to a room: fill in the room of its call stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import Pipeline
from pipeline.config.loader import load_pipeline_text
from pipeline.webrtc.datachannel_sink import DatachannelSink
from pipeline.webrtc.source import WebrtcSource


def load_room_pipeline(text: str, path: Path, room_key: str, hears: str | None, speaker: str | None) -> Pipeline:
    """``text`` loaded with its ``webrtc_source`` and ``datachannel_sink`` stages bound to a room.

    ``hears`` (when given) is whose audio the pipeline's sources take, otherwise
    they take the room's mix; ``speaker`` is who its messages are attributed to. Raises
    :class:`pipeline.config.ConfigError` for a file that does not load.
    """
    plain = load_pipeline_text(text, path)
    overrides: dict[str, dict[str, Any]] = {}
    for entry in plain.document.stages:
        if entry.type == WebrtcSource.type_name:
            overrides[entry.name] = {"room": room_key} | ({"participant": hears} if hears else {})
        elif entry.type == DatachannelSink.type_name:
            overrides[entry.name] = {"room": room_key} | ({"speaker": speaker} if speaker else {})
    return load_pipeline_text(text, path, overrides)
