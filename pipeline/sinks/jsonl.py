"""Write text and event frames as JSON lines, to a file or standard output."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import IO, ClassVar

from pydantic import Field

from engine.caps import Caps
from engine.frames import Frame, FrameKind, frame_to_json, now_ns
from engine.stage import Stage, StageError, StageSettings
from pipeline.paths import OutputPath
from pipeline.registry import register_stage


class JsonlSinkSettings(StageSettings):
    path: OutputPath = Field(Path("-"), description="file to append to; '-' for standard output")


@register_stage
class JsonlSink(Stage[JsonlSinkSettings]):
    """One JSON object per line for each text or event frame, with its latency."""

    type_name = "jsonl_sink"
    settings_model = JsonlSinkSettings
    input_caps: ClassVar[Caps] = Caps.any_of(FrameKind.TEXT, FrameKind.EVENT)
    description = "text and events as JSON lines (file or stdout)"

    def __init__(self, name: str, settings: JsonlSinkSettings) -> None:
        super().__init__(name, settings)
        self._out: IO[str] | None = None
        self.lines_written = 0

    async def start(self) -> None:
        if str(self.settings.path) == "-":
            self._out = sys.stdout
            return
        try:
            self._out = await asyncio.to_thread(self.settings.path.open, "a", encoding="utf-8")
        except OSError as error:
            raise StageError(f"cannot write '{self.settings.path}': {error.strerror}") from error

    def process(self, frame: Frame) -> None:
        if self._out is None:
            return
        record = frame_to_json(frame)
        record["latency_ms"] = round((now_ns() - frame.ingest_ns) / 1e6, 3)
        self._out.write(json.dumps(record, default=str) + "\n")
        self.lines_written += 1
        if self._out is sys.stdout:
            self._out.flush()

    def end_of_stream(self) -> None:
        if self._out is not None:
            self._out.flush()

    async def stop(self) -> None:
        if self._out is not None and self._out is not sys.stdout:
            self._out.close()
        self._out = None
