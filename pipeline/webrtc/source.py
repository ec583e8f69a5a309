"""``webrtc_source``: a call participant's audio (or video) as frames in a graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

import av
import numpy as np
from pydantic import Field

from engine.caps import Caps, Structure, audio
from engine.frames import AudioFrame, Frame, FrameKind, VideoFrame, now_ns
from engine.stage import Source, StageError, StageSettings
from pipeline.pcm import AV_FORMATS, from_av_frame, layout_for, to_av_frame
from pipeline.registry import register_stage
from pipeline.webrtc.hub import MIX_RATE, find_room

if TYPE_CHECKING:  # aiortc is imported only when a call runs (see pipeline.webrtc.hub)
    from aiortc.mediastreams import MediaStreamTrack


class WebrtcSourceSettings(StageSettings):
    room: str = Field("", description="set by the call server: the room this pipeline runs in")
    participant: str | None = Field(
        None, description="set by the call server for per-participant pipelines; null = the room's mix"
    )
    media: Literal["audio", "video"] = Field("audio", description="which of the participant's tracks")
    sample_rate: int = Field(MIX_RATE, ge=8000, le=48000, description="audio frames are resampled to this rate")
    channels: int = Field(1, ge=1, le=2)
    sample_format: Literal["s16", "f32"] = "s16"


@register_stage
class WebrtcSource(Source[WebrtcSourceSettings]):
    """Decoded media of a call participant (or the room's audio mix), at the caps the next stage needs."""

    type_name = "webrtc_source"
    settings_model = WebrtcSourceSettings
    description = "a call participant's audio or video (WebRTC, in a room's pipeline)"
    is_live = True

    def __init__(self, name: str, settings: WebrtcSourceSettings) -> None:
        super().__init__(name, settings)
        self.first_frame_ns: int | None = None
        self._video: MediaStreamTrack | None = None

    def source_caps(self) -> Caps:
        s = self.settings
        if s.media == "video":
            return Caps.of(Structure.of(FrameKind.VIDEO, format="yuv420p"))
        return Caps.of(audio(rate=s.sample_rate, channels=s.channels, sample_format=s.sample_format))

    async def start(self) -> None:
        find_room(self.settings.room, self.name)
        if self.settings.media == "video" and self.settings.participant is None:
            raise StageError(f"stage '{self.name}': video needs a participant (a room mixes audio only)")

    def frames(self) -> AsyncIterator[Frame]:
        return self._video_frames() if self.settings.media == "video" else self._audio_frames()

    async def _audio_frames(self) -> AsyncIterator[Frame]:
        s = self.settings
        room = find_room(s.room, self.name)
        resampler = av.AudioResampler(
            format=AV_FORMATS[s.sample_format], layout=layout_for(s.channels), rate=s.sample_rate
        )
        produced = 0
        as_mixed = (s.sample_rate, s.channels, s.sample_format) == (MIX_RATE, 1, "s16")
        async for samples, arrived_ns in room.audio(s.participant):
            if as_mixed:  # the room's own format: no conversion
                self._mark_first()
                yield AudioFrame(
                    pts_ns=produced * 1_000_000_000 // MIX_RATE,
                    ingest_ns=arrived_ns,
                    samples=samples.reshape(-1, 1),
                    sample_rate=MIX_RATE,
                )
                produced += samples.shape[0]
                continue
            for converted in resampler.resample(to_av_frame(samples.reshape(-1, 1), MIX_RATE)):
                data = from_av_frame(converted)
                self._mark_first()
                yield AudioFrame(
                    pts_ns=produced * 1_000_000_000 // s.sample_rate,
                    ingest_ns=arrived_ns,
                    samples=data,
                    sample_rate=s.sample_rate,
                )
                produced += data.shape[0]

    async def _video_frames(self) -> AsyncIterator[Frame]:
        from aiortc.mediastreams import MediaStreamError

        s = self.settings
        assert s.participant is not None  # checked in start()
        self._video = find_room(s.room, self.name).video(s.participant)
        while True:
            try:
                picture = await self._video.recv()
            except MediaStreamError:
                return
            if isinstance(picture, av.VideoFrame):
                self._mark_first()
                yield _video_frame(picture)

    def _mark_first(self) -> None:
        if self.first_frame_ns is None:
            self.first_frame_ns = now_ns()
            self.post("first-media", participant=self.settings.participant, media=self.settings.media)

    async def stop(self) -> None:
        if self._video is not None:
            self._video.stop()
            self._video = None


def _video_frame(picture: av.VideoFrame) -> VideoFrame:
    width, height = picture.width, picture.height
    packed = picture.to_ndarray(format="yuv420p")
    luma = packed[:height]
    chroma = packed[height:].reshape(2, height // 2, width // 2)
    pts, time_base = picture.pts, picture.time_base
    pts_ns = int(pts * time_base * 1_000_000_000) if pts is not None and time_base is not None else 0
    return VideoFrame(
        pts_ns=pts_ns,
        ingest_ns=now_ns(),
        planes=(np.ascontiguousarray(luma), chroma[0].copy(), chroma[1].copy()),
        width=width,
        height=height,
    )
