"""Live audio from a microphone through sounddevice (PortAudio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from pydantic import Field

from engine.caps import Caps, audio
from engine.frames import AudioFrame, Frame, now_ns
from engine.stage import Source, StageSettings
from pipeline.audio_devices import find_device, load_sounddevice
from pipeline.registry import register_stage

BACKLOG_FRAMES = 50


class MicrophoneSourceSettings(StageSettings):
    device: str | int | None = Field(None, description="device name or index; null for the default")
    sample_rate: int = Field(48000, ge=8000, le=192000)
    channels: int = Field(1, ge=1, le=8)
    frame_ms: int = Field(20, ge=1, le=1000)


@register_stage
class MicrophoneSource(Source[MicrophoneSourceSettings]):
    """Captures 16-bit PCM from an input device; fails clearly where there is none."""

    type_name = "microphone_source"
    settings_model = MicrophoneSourceSettings
    description = "live audio from a sound card (sounddevice)"
    is_live = True

    def __init__(self, name: str, settings: MicrophoneSourceSettings) -> None:
        super().__init__(name, settings)
        self._stream: Any = None
        self._frames: asyncio.Queue[tuple[np.ndarray, int]] = asyncio.Queue(BACKLOG_FRAMES)
        self.overruns = 0

    def source_caps(self) -> Caps:
        s = self.settings
        return Caps.of(audio(rate=s.sample_rate, channels=s.channels, sample_format="s16"))

    async def start(self) -> None:
        s = self.settings
        device = find_device("input", s.device)
        sd = load_sounddevice()
        loop = asyncio.get_running_loop()

        def on_audio(data: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            loop.call_soon_threadsafe(self._offer, data.copy(), now_ns())

        self._stream = sd.InputStream(
            device=device["index"],
            samplerate=s.sample_rate,
            channels=s.channels,
            dtype="int16",
            blocksize=s.sample_rate * s.frame_ms // 1000,
            callback=on_audio,
        )
        self._stream.start()

    def _offer(self, samples: np.ndarray, ingest_ns: int) -> None:
        if self._frames.full():
            self._frames.get_nowait()
            self.overruns += 1
        self._frames.put_nowait((samples, ingest_ns))

    async def frames(self) -> AsyncIterator[Frame]:
        produced = 0
        while True:
            samples, ingest_ns = await self._frames.get()
            pts_ns = produced * 1_000_000_000 // self.settings.sample_rate
            yield AudioFrame(pts_ns=pts_ns, ingest_ns=ingest_ns, samples=samples, sample_rate=self.settings.sample_rate)
            produced += samples.shape[0]

    async def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
