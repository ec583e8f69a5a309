"""Play audio on a sound card through sounddevice (PortAudio)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.caps import ANY_AUDIO
from engine.frames import AudioFrame, Frame
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.audio_devices import find_device, load_sounddevice
from pipeline.registry import register_stage


class SpeakerSinkSettings(StageSettings):
    device: str | int | None = Field(None, description="device name or index; null for the default")


@register_stage
class SpeakerSink(Stage[SpeakerSinkSettings]):
    """Plays 16-bit audio; the stream opens at the first frame's rate and channels."""

    type_name = "speaker_sink"
    settings_model = SpeakerSinkSettings
    input_caps = ANY_AUDIO
    placement = Placement.EXECUTOR
    description = "play audio on a sound card (sounddevice)"

    def __init__(self, name: str, settings: SpeakerSinkSettings) -> None:
        super().__init__(name, settings)
        self._device: dict[str, Any] = {}
        self._stream: Any = None
        self._shape: tuple[int, int] | None = None

    async def start(self) -> None:
        self._device = find_device("output", self.settings.device)

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, AudioFrame):
            return
        shape = (frame.sample_rate, frame.channels)
        if self._stream is None:
            sd = load_sounddevice()
            self._stream = sd.OutputStream(
                device=self._device["index"],
                samplerate=frame.sample_rate,
                channels=frame.channels,
                dtype=frame.samples.dtype.name,
            )
            self._stream.start()
            self._shape = shape
        elif shape != self._shape:
            raise StageError(f"audio changed from {self._shape} to {shape} mid-stream; put a resample stage before")
        self._stream.write(frame.samples)

    async def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
