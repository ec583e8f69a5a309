"""The AIC gRPC service (``auralink.aic.v1.AICCompressionService``) on grpc.aio.

CPU work (the numba kernels release the GIL) runs in the process's work
executor, never on the event loop. Streams named by ``stream_id`` keep their
encoder and decoder in a bounded table (least recently used streams are
dropped); ``CompressStream`` keeps its own for as long as the call lasts.
Bad requests get ``INVALID_ARGUMENT`` with a message naming the field; bad
bitstreams get ``INVALID_ARGUMENT`` (or ``FAILED_PRECONDITION`` for an inter
frame whose reference is missing) with the decoder's reason.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from engine.executors import work_executor
from kernels.dispatch import device_name
from pipeline.aic import bitstream
from pipeline.aic.bitstream import BitstreamError
from pipeline.aic.codec import AICDecoder, AICEncoder, warm_up
from pipeline.aic.hints import DEFAULT_NS_PER_PIXEL, Hints, audio_hints, video_hints
from pipeline.aic.network import NetworkError, analyse
from pipeline.aic.types import CompressOptions, CompressResult
from pipeline.aic.wire import (
    MODE_TO_WIRE,
    RequestError,
    audio_samples,
    error_response,
    frame_from_decoded,
    network_sample,
    options_from_request,
    response_from_result,
    video_planes,
)
from protos.gen import aic_compression_pb2 as pb
from protos.gen import aic_compression_pb2_grpc as pb_grpc
from settings import package_version

MAX_STREAMS = 256
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
T = TypeVar("T")


@dataclass
class StreamState:
    encoder: AICEncoder = field(default_factory=AICEncoder)
    decoder: AICDecoder = field(default_factory=AICDecoder)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class StreamTable:
    """Per-stream codec state by ``stream_id``, at most ``limit`` streams (least recently used go first)."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self._streams: OrderedDict[str, StreamState] = OrderedDict()

    def get(self, stream_id: str) -> StreamState:
        if not stream_id:
            return StreamState()
        state = self._streams.pop(stream_id, None) or StreamState()
        self._streams[stream_id] = state
        while len(self._streams) > self.limit:
            self._streams.popitem(last=False)
        return state

    def __len__(self) -> int:
        return len(self._streams)


def compress(request: pb.CompressRequest, encoder: AICEncoder) -> pb.CompressResponse:
    """Serve one compress request with ``encoder`` (runs in a worker thread)."""
    frame = request.frame
    try:
        options = options_from_request(request)
        result = _compress_frame(frame, options, encoder)
    except (RequestError, BitstreamError) as error:
        return error_response(str(error), frame.pts)
    return response_from_result(result, options.mode, frame.pts)


def _compress_frame(frame: pb.Frame, options: CompressOptions, encoder: AICEncoder) -> CompressResult:
    if frame.type in (pb.FRAME_TYPE_VIDEO, pb.FRAME_TYPE_SCREEN):
        return encoder.compress_video(video_planes(frame), options)
    if frame.type == pb.FRAME_TYPE_AUDIO:
        return encoder.compress_audio(audio_samples(frame), frame.sample_rate, options)
    raise RequestError("frame.type must be video, screen or audio")


def hints(request: pb.CompressRequest, encoder: AICEncoder) -> pb.CompressionHints:
    options = options_from_request(request)
    frame = request.frame
    predicted: Hints
    if frame.type == pb.FRAME_TYPE_AUDIO:
        predicted = audio_hints(audio_samples(frame))
    elif frame.type in (pb.FRAME_TYPE_VIDEO, pb.FRAME_TYPE_SCREEN):
        rate = encoder.video.rate
        pixels = frame.width * frame.height
        ns_per_pixel = rate.attempt_ms * 1e6 / pixels if rate.attempt_ms and pixels else DEFAULT_NS_PER_PIXEL
        predicted = video_hints(video_planes(frame), options, rate, ns_per_pixel)
    else:
        raise RequestError("frame.type must be video, screen or audio")
    return pb.CompressionHints(
        predicted_ratio=predicted.predicted_ratio,
        predicted_ssim=predicted.predicted_ssim,
        predicted_psnr=predicted.predicted_psnr,
        predicted_latency_ms=predicted.predicted_latency_ms,
        mode=MODE_TO_WIRE[options.mode],
        qp=predicted.qp,
        predicted_size=predicted.predicted_size,
    )


class AICService(pb_grpc.AICCompressionServiceServicer):
    def __init__(self, streams: StreamTable | None = None) -> None:
        self.streams = streams or StreamTable()

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(work_executor(), work)

    async def CompressFrame(  # noqa: N802 - gRPC method names
        self, request: pb.CompressRequest, context: grpc.aio.ServicerContext[pb.CompressRequest, pb.CompressResponse]
    ) -> pb.CompressResponse:
        state = self.streams.get(request.stream_id)
        async with state.lock:
            response = await self._run(lambda: compress(request, state.encoder))
        if response.status == pb.COMPRESSION_STATUS_ERROR:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, response.error)
        return response

    async def CompressStream(  # noqa: N802
        self,
        request_iterator: AsyncIterator[pb.CompressRequest],
        context: grpc.aio.ServicerContext[pb.CompressRequest, pb.CompressResponse],
    ) -> AsyncIterator[pb.CompressResponse]:
        """One response per request; a bad frame gets an ERROR response and the stream goes on."""
        encoder = AICEncoder()
        async for request in request_iterator:
            yield await self._run(lambda request=request: compress(request, encoder))  # type: ignore[misc]

    async def DecompressFrame(  # noqa: N802
        self,
        request: pb.DecompressRequest,
        context: grpc.aio.ServicerContext[pb.DecompressRequest, pb.DecompressResponse],
    ) -> pb.DecompressResponse:
        state = self.streams.get(request.stream_id)
        started = time.perf_counter()
        async with state.lock:
            try:
                decoded = await self._run(lambda: state.decoder.decompress(request.data))
            except BitstreamError as error:
                code = grpc.StatusCode.INVALID_ARGUMENT
                if "does not hold" in str(error):
                    code = grpc.StatusCode.FAILED_PRECONDITION
                await context.abort(code, str(error))
        return pb.DecompressResponse(
            frame=frame_from_decoded(decoded), latency_ms=(time.perf_counter() - started) * 1000.0
        )

    async def GetCompressionHints(  # noqa: N802
        self, request: pb.CompressRequest, context: grpc.aio.ServicerContext[pb.CompressRequest, pb.CompressionHints]
    ) -> pb.CompressionHints:
        state = self.streams.get(request.stream_id)
        try:
            return await self._run(lambda: hints(request, state.encoder))
        except (RequestError, BitstreamError) as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))

    async def AnalyzeNetworkConditions(  # noqa: N802
        self,
        request: pb.NetworkConditionsRequest,
        context: grpc.aio.ServicerContext[pb.NetworkConditionsRequest, pb.NetworkAnalysis],
    ) -> pb.NetworkAnalysis:
        try:
            analysis = analyse([network_sample(sample) for sample in request.samples])
        except NetworkError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        return pb.NetworkAnalysis(
            predicted_bandwidth_kbps=analysis.predicted_bandwidth_kbps,
            stability=analysis.stability,
            recommended_mode=MODE_TO_WIRE[analysis.recommended_mode],
            recommended_bitrate_kbps=analysis.recommended_bitrate_kbps,
            mean_rtt_ms=analysis.mean_rtt_ms,
            mean_loss=analysis.mean_loss,
            samples=analysis.samples,
        )

    async def HealthCheck(  # noqa: N802
        self,
        request: pb.HealthCheckRequest,
        context: grpc.aio.ServicerContext[pb.HealthCheckRequest, pb.HealthCheckResponse],
    ) -> pb.HealthCheckResponse:
        return pb.HealthCheckResponse(
            status=pb.HealthCheckResponse.SERVING_STATUS_SERVING,
            version=package_version(),
            bitstream_version=bitstream.VERSION,
            device=device_name(),
            active_streams=len(self.streams),
        )


async def start_server(host: str = "127.0.0.1", port: int = 0) -> tuple[grpc.aio.Server, int]:
    """A started server on ``host:port`` (0 = any free port), its kernels warmed up; returns it and the bound port."""
    await asyncio.get_running_loop().run_in_executor(work_executor(), warm_up)
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
    )
    pb_grpc.add_AICCompressionServiceServicer_to_server(AICService(), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    await server.start()
    return server, bound
