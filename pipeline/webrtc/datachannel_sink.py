"""``datachannel_sink``: captions, translations and events to a room's participants, as JSON."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from engine.caps import Caps
from engine.frames import EventFrame, Frame, FrameKind, TextFrame, frame_to_json, now_ns
from engine.stage import Stage, StageSettings
from pipeline.registry import register_stage
from pipeline.webrtc.hub import RoomMedia, find_room


class DatachannelSinkSettings(StageSettings):
    room: str = Field("", description="set by the call server: the room whose participants receive the messages")
    speaker: str | None = Field(None, description="set by the call server: whose audio the text is about")
    events: list[str] | None = Field(
        None, description="event names to forward (null: every event; [] : text frames only)"
    )


def datachannel_message(frame: TextFrame | EventFrame, speaker: str | None) -> dict[str, Any]:
    """The JSON message a participant receives for ``frame``.

    Text frames become ``{"type": "transcript" | "translation" | "text", "text", "final",
    "language", ...attributes}``; events ``{"type": "event", "event", "source", "data"}``.
    Both carry ``speaker``, ``pts_ms`` and ``latency_ms`` (since the audio arrived).
    """
    body = frame_to_json(frame)
    body.pop("kind", None)
    if isinstance(frame, TextFrame):
        body["type"] = "text" if frame.role.value == "plain" else frame.role.value
        body.pop("role", None)
    else:
        body["type"] = "event"
    body["speaker"] = speaker
    body["latency_ms"] = round((now_ns() - frame.ingest_ns) / 1e6, 3)
    return body


@register_stage
class DatachannelSink(Stage[DatachannelSinkSettings]):
    """Sends every text frame (and chosen events) to the room's data channels as JSON."""

    type_name = "datachannel_sink"
    settings_model = DatachannelSinkSettings
    input_caps: ClassVar[Caps] = Caps.any_of(FrameKind.TEXT, FrameKind.EVENT)
    description = "text and events as JSON on the call's data channels"

    def __init__(self, name: str, settings: DatachannelSinkSettings) -> None:
        super().__init__(name, settings)
        self._room: RoomMedia | None = None
        self.messages_sent = 0

    async def start(self) -> None:
        self._room = find_room(self.settings.room, self.name)

    def process(self, frame: Frame) -> None:
        if self._room is None or not isinstance(frame, TextFrame | EventFrame):
            return
        wanted = self.settings.events
        if isinstance(frame, EventFrame) and wanted is not None and frame.name not in wanted:
            return
        self.messages_sent += self._room.send_data(datachannel_message(frame, self.settings.speaker))

    async def stop(self) -> None:
        self._room = None
