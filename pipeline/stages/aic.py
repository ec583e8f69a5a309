"""The ``aic`` stage: AIC-compress video and audio frames inside a graph, and pass on what the receiver would see.

Each frame is compressed (and, with ``roundtrip``, decompressed again, so
downstream stages get exactly the reconstruction a receiver decodes). Per frame
it posts an ``aic-frame`` event on the graph's bus (status, ratio, SSIM, PSNR,
per-step latency, fallback reason); every ``usage_interval_s`` of media, and at
the end of the stream, a ``usage`` event carrying an ``telemetry.records``
``UsageEvent`` with metric ``aic_bytes_saved``, for the control plane's analytics.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from engine.caps import ANY_EVENT, Caps, Structure, audio
from engine.executors import work_executor
from engine.frames import AudioFrame, Frame, FrameKind, VideoFrame
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.aic.bitstream import BitstreamError
from pipeline.aic.types import DEFAULT_LATENCY_CAP_MS, CompressOptions, CompressResult, DecodedAudio, Mode
from pipeline.registry import register_stage
from telemetry.records import UsageEvent, record_to_json

if TYPE_CHECKING:
    from pipeline.aic.codec import AICDecoder, AICEncoder

AIC_INPUT_CAPS = Caps.of(audio(sample_format="s16"), Structure.of(FrameKind.VIDEO, format="yuv420p"))


class AICSettings(StageSettings):
    mode: Literal["off", "conservative", "adaptive", "aggressive"] = Field(
        "adaptive", description="quality floor: conservative SSIM 0.95, adaptive 0.85, aggressive 0.70; off = lossless"
    )
    target_ratio: float = Field(0.0, ge=0.0, le=1000.0, description="original/compressed size to aim for; 0 = none")
    target_bitrate_kbps: float = Field(0.0, ge=0.0, description="video bitrate to stay under; 0 = none")
    fps: float = Field(30.0, gt=0.0, le=1000.0, description="video frame rate, for the bitrate budget")
    latency_cap_ms: float = Field(DEFAULT_LATENCY_CAP_MS, gt=0.0, le=10000.0, description="per-frame time budget")
    roundtrip: bool = Field(True, description="pass on the decoded frames (what a receiver sees)")
    usage_interval_s: float = Field(1.0, gt=0.0, description="media seconds between usage events")


@register_stage
class AICStage(Stage[AICSettings]):
    """Compresses video (yuv420p) and audio (s16) frames with AIC; other frames pass through."""

    type_name = "aic"
    settings_model = AICSettings
    placement = Placement.EXECUTOR
    input_caps = AIC_INPUT_CAPS.union(ANY_EVENT)
    description = "AIC compression with a quality floor and lossless fallback; ratio, quality, bytes-saved events"

    def __init__(self, name: str, settings: AICSettings) -> None:
        super().__init__(name, settings)
        from pipeline.aic.codec import AICDecoder, AICEncoder  # numba loads with the first aic stage, not the CLI

        self._options = CompressOptions(
            mode=Mode(settings.mode),
            target_ratio=settings.target_ratio,
            target_bitrate_kbps=settings.target_bitrate_kbps,
            fps=settings.fps,
            latency_cap_ms=settings.latency_cap_ms,
        )
        self._encoders: dict[FrameKind, AICEncoder] = {FrameKind.VIDEO: AICEncoder(), FrameKind.AUDIO: AICEncoder()}
        self._decoders: dict[FrameKind, AICDecoder] = {FrameKind.VIDEO: AICDecoder(), FrameKind.AUDIO: AICDecoder()}
        self._saved = 0
        self._window_start_ns: int | None = None

    def output_caps(self, upstream: Caps) -> Caps:
        return upstream.union(ANY_EVENT)

    async def start(self) -> None:
        """Load the kernels before frames flow, so the first frame keeps its latency budget."""
        from pipeline.aic.codec import warm_up

        await asyncio.get_running_loop().run_in_executor(work_executor(), warm_up)

    def process(self, frame: Frame) -> None:
        if isinstance(frame, VideoFrame):
            result = self._compress_video(frame)
        elif isinstance(frame, AudioFrame):
            result = self._encoders[FrameKind.AUDIO].compress_audio(frame.samples, frame.sample_rate, self._options)
        else:
            self.emit(frame)
            return
        self._report(frame, result)
        self.emit(self._decoded(frame, result.data) if self.settings.roundtrip else frame)

    def end_of_stream(self) -> None:
        self._report_usage(0)

    def _compress_video(self, frame: VideoFrame) -> CompressResult:
        if frame.pixel_format != "yuv420p":
            raise StageError(f"aic takes yuv420p video, got {frame.pixel_format}")
        options = self._options
        if frame.keyframe:
            options = dataclasses.replace(options, keyframe=True)
        try:
            return self._encoders[FrameKind.VIDEO].compress_video(
                (frame.planes[0], frame.planes[1], frame.planes[2]), options
            )
        except BitstreamError as error:
            raise StageError(f"aic cannot code this frame: {error}") from None

    def _decoded(self, frame: AudioFrame | VideoFrame, data: bytes) -> Frame:
        decoded = self._decoders[frame.kind].decompress(data)
        if isinstance(decoded, DecodedAudio):
            return AudioFrame(frame.pts_ns, frame.ingest_ns, decoded.samples, decoded.sample_rate)
        return VideoFrame(frame.pts_ns, frame.ingest_ns, decoded.planes, decoded.width, decoded.height, "yuv420p",
                          decoded.keyframe)  # fmt: skip

    def _report(self, frame: AudioFrame | VideoFrame, result: CompressResult) -> None:
        self.post(
            "aic-frame",
            frame.pts_ns,
            media=frame.kind.value,
            status=result.status.value,
            frame_kind=result.kind,
            original_bytes=result.original_size,
            compressed_bytes=result.compressed_size,
            ratio=round(result.ratio, 3),
            ssim=round(result.ssim, 5),
            psnr=round(result.psnr, 3),
            qp=result.qp,
            latency_ms={step: round(ms, 3) for step, ms in result.latency_ms.items()},
            fallback_reason=result.fallback_reason,
        )
        self._saved += result.bytes_saved
        if self._window_start_ns is None:
            self._window_start_ns = frame.pts_ns
        if frame.pts_ns - self._window_start_ns >= self.settings.usage_interval_s * 1e9:
            self._report_usage(frame.pts_ns)

    def _report_usage(self, pts_ns: int) -> None:
        if self._saved <= 0:
            return
        usage = UsageEvent(metric="aic_bytes_saved", quantity=float(self._saved), feature="aic", provider="aic-v1")
        self.post("usage", pts_ns, **record_to_json(usage))
        self._saved = 0
        self._window_start_ns = pts_ns
