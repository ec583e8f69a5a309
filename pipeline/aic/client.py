"""A Python client for the AIC gRPC service (grpc.aio).

Frames go in as numpy arrays (yuv420p planes or ``(samples, channels)`` int16)
and come back the same way; requests and responses are the service's own
messages, so every field the service reports (status, sizes, SSIM, PSNR, per-step
latency, fallback reason) stays visible.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from types import TracebackType

import grpc
import numpy as np
import numpy.typing as npt

from pipeline.aic.network import NetworkSample
from pipeline.aic.types import Mode
from pipeline.aic.video import Planes
from pipeline.aic.wire import MODE_TO_WIRE, audio_samples, video_planes
from protos.gen import aic_compression_pb2 as pb
from protos.gen import aic_compression_pb2_grpc as pb_grpc
from protos.gen.aic_compression_pb2 import CompressRequest


def video_request(
    planes: Planes,
    mode: Mode = Mode.ADAPTIVE,
    *,
    screen: bool = False,
    keyframe: bool = False,
    pts: int = 0,
    fps: float = 30.0,
    latency_cap_ms: float = 0.0,
    target_ratio: float = 0.0,
    stream_id: str = "",
) -> CompressRequest:
    """A compress request for one yuv420p picture (0 means the service's default for each number)."""
    height, width = planes[0].shape
    frame = pb.Frame(
        type=pb.FRAME_TYPE_SCREEN if screen else pb.FRAME_TYPE_VIDEO,
        width=width,
        height=height,
        pixel_format=pb.PIXEL_FORMAT_YUV420P,
        fps=fps,
        keyframe=keyframe,
        pts=pts,
        data=b"".join(np.ascontiguousarray(plane).tobytes() for plane in planes),
    )
    return CompressRequest(
        frame=frame,
        mode=MODE_TO_WIRE[mode],
        latency_cap_ms=latency_cap_ms,
        target_ratio=target_ratio,
        stream_id=stream_id,
    )


def audio_request(
    samples: npt.NDArray[np.int16],
    sample_rate: int,
    mode: Mode = Mode.ADAPTIVE,
    *,
    pts: int = 0,
    latency_cap_ms: float = 0.0,
    stream_id: str = "",
) -> CompressRequest:
    frame = pb.Frame(
        type=pb.FRAME_TYPE_AUDIO,
        pixel_format=pb.PIXEL_FORMAT_S16,
        sample_rate=sample_rate,
        channels=samples.shape[1],
        pts=pts,
        data=samples.astype("<i2").tobytes(),
    )
    return CompressRequest(frame=frame, mode=MODE_TO_WIRE[mode], latency_cap_ms=latency_cap_ms, stream_id=stream_id)


class AICClient:
    """``async with AICClient("127.0.0.1:50061") as client: ...``"""

    def __init__(self, target: str) -> None:
        self.target = target
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)],
        )
        self.stub = pb_grpc.AICCompressionServiceStub(self._channel)

    async def __aenter__(self) -> AICClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def compress(self, request: CompressRequest) -> pb.CompressResponse:
        return await self.stub.CompressFrame(request)

    async def compress_stream(self, requests: Iterable[CompressRequest]) -> AsyncIterator[pb.CompressResponse]:
        """Responses in request order, as they arrive."""
        call = self.stub.CompressStream(iter(requests))
        async for response in call:
            yield response

    async def decompress_video(self, data: bytes, stream_id: str = "") -> Planes:
        response = await self.stub.DecompressFrame(pb.DecompressRequest(data=data, stream_id=stream_id))
        return video_planes(response.frame)

    async def decompress_audio(self, data: bytes, stream_id: str = "") -> npt.NDArray[np.int16]:
        response = await self.stub.DecompressFrame(pb.DecompressRequest(data=data, stream_id=stream_id))
        return audio_samples(response.frame)

    async def hints(self, request: CompressRequest) -> pb.CompressionHints:
        return await self.stub.GetCompressionHints(request)

    async def analyze_network(self, samples: Iterable[NetworkSample]) -> pb.NetworkAnalysis:
        conditions = [
            pb.NetworkConditions(bandwidth_kbps=s.bandwidth_kbps, rtt_ms=s.rtt_ms, loss=s.loss, jitter_ms=s.jitter_ms)
            for s in samples
        ]
        return await self.stub.AnalyzeNetworkConditions(pb.NetworkConditionsRequest(samples=conditions))

    async def health(self) -> pb.HealthCheckResponse:
        return await self.stub.HealthCheck(pb.HealthCheckRequest())
