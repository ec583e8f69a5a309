"""Conversions between the gRPC messages (``auralink.aic.v1``) and the codec's own types."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from kernels.colour import rgb_to_yuv420
from pipeline.aic.bitstream import BitstreamError, check_video_size
from pipeline.aic.codec import DecodedAudio, DecodedVideo
from pipeline.aic.network import NetworkSample, recommend_mode
from pipeline.aic.types import DEFAULT_LATENCY_CAP_MS, CompressOptions, CompressResult, Mode, Status
from pipeline.aic.video import Planes
from protos.gen import aic_compression_pb2 as pb

MAX_TARGET_RATIO = 1000.0
MAX_LATENCY_CAP_MS = 10_000.0

MODE_TO_WIRE = {
    Mode.OFF: pb.COMPRESSION_MODE_OFF,
    Mode.CONSERVATIVE: pb.COMPRESSION_MODE_CONSERVATIVE,
    Mode.ADAPTIVE: pb.COMPRESSION_MODE_ADAPTIVE,
    Mode.AGGRESSIVE: pb.COMPRESSION_MODE_AGGRESSIVE,
}
MODE_FROM_WIRE = {wire: mode for mode, wire in MODE_TO_WIRE.items()}
STATUS_TO_WIRE = {
    Status.SUCCESS: pb.COMPRESSION_STATUS_SUCCESS,
    Status.FALLBACK: pb.COMPRESSION_STATUS_FALLBACK,
    Status.ERROR: pb.COMPRESSION_STATUS_ERROR,
    Status.TIMEOUT: pb.COMPRESSION_STATUS_TIMEOUT,
    Status.QUALITY_NOT_MET: pb.COMPRESSION_STATUS_QUALITY_NOT_MET,
}


class RequestError(ValueError):
    """A request the service cannot serve; the message names the field."""


def _finite_in(name: str, value: float, low: float, high: float) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise RequestError(f"{name} must be within {low:g}..{high:g}, got {value}")
    return value


def options_from_request(request: pb.CompressRequest) -> CompressOptions:
    """The codec options a request asks for; the network picks the mode when the request does not."""
    frame = request.frame
    target_ratio = _finite_in("target_ratio", request.target_ratio, 0.0, MAX_TARGET_RATIO)
    if 0 < target_ratio < 1:
        raise RequestError(f"target_ratio must be 0 (none) or at least 1, got {target_ratio}")
    cap = _finite_in("latency_cap_ms", request.latency_cap_ms, 0.0, MAX_LATENCY_CAP_MS) or DEFAULT_LATENCY_CAP_MS
    bitrate = _finite_in("target_bitrate_kbps", request.target_bitrate_kbps, 0.0, 1e7)
    fps = _finite_in("frame.fps", frame.fps, 0.0, 1000.0) or 30.0
    if request.HasField("network"):
        _finite_in("network.bandwidth_kbps", request.network.bandwidth_kbps, 0.0, 1e9)
        _finite_in("network.loss", request.network.loss, 0.0, 1.0)
    if request.mode in MODE_FROM_WIRE:
        mode = MODE_FROM_WIRE[request.mode]
    elif request.mode == pb.COMPRESSION_MODE_UNSPECIFIED:
        bandwidth = request.network.bandwidth_kbps
        mode = recommend_mode(bandwidth) if bandwidth > 0 else Mode.ADAPTIVE
    else:
        raise RequestError(f"unknown compression mode {request.mode}")
    return CompressOptions(
        mode=mode,
        target_ratio=target_ratio,
        target_bitrate_kbps=bitrate,
        fps=fps,
        latency_cap_ms=cap,
        allow_fallback=not request.disable_fallback,
        keyframe=frame.keyframe,
    )


def video_planes(frame: pb.Frame) -> Planes:
    """The yuv420p planes a video or screen frame carries (RGB24 is converted)."""
    width, height = frame.width, frame.height
    try:
        check_video_size(width, height)
    except BitstreamError as error:
        raise RequestError(str(error)) from None
    if frame.pixel_format in (pb.PIXEL_FORMAT_YUV420P, pb.PIXEL_FORMAT_UNSPECIFIED):
        expected = width * height * 3 // 2
        _check_length(frame.data, expected, f"{width}x{height} yuv420p")
        flat = np.frombuffer(frame.data, dtype=np.uint8)
        luma, chroma = width * height, (width // 2) * (height // 2)
        return (
            flat[:luma].reshape(height, width),
            flat[luma : luma + chroma].reshape(height // 2, width // 2),
            flat[luma + chroma :].reshape(height // 2, width // 2),
        )
    if frame.pixel_format == pb.PIXEL_FORMAT_RGB24:
        _check_length(frame.data, width * height * 3, f"{width}x{height} rgb24")
        return rgb_to_yuv420(np.frombuffer(frame.data, dtype=np.uint8).reshape(height, width, 3))
    raise RequestError(f"unsupported pixel format {pb.PixelFormat.Name(frame.pixel_format)} for a video frame")


def audio_samples(frame: pb.Frame) -> npt.NDArray[np.int16]:
    if frame.pixel_format not in (pb.PIXEL_FORMAT_S16, pb.PIXEL_FORMAT_UNSPECIFIED):
        raise RequestError(f"unsupported sample format {pb.PixelFormat.Name(frame.pixel_format)}: audio is s16")
    if not 1 <= frame.channels <= 8:
        raise RequestError(f"channels must be 1..8, got {frame.channels}")
    if not 8000 <= frame.sample_rate <= 192_000:
        raise RequestError(f"sample_rate must be 8000..192000, got {frame.sample_rate}")
    if not frame.data or len(frame.data) % (2 * frame.channels):
        raise RequestError(f"audio data of {len(frame.data)} bytes is not whole s16 samples of {frame.channels} ch")
    return np.frombuffer(frame.data, dtype="<i2").astype(np.int16).reshape(-1, frame.channels)


def _check_length(data: bytes, expected: int, what: str) -> None:
    if len(data) != expected:
        raise RequestError(f"frame data is {len(data)} bytes; {what} needs {expected}")


def response_from_result(result: CompressResult, mode: Mode, pts: int) -> pb.CompressResponse:
    return pb.CompressResponse(
        status=STATUS_TO_WIRE[result.status],
        data=result.data,
        original_size=result.original_size,
        compressed_size=result.compressed_size,
        ratio=result.ratio,
        ssim=result.ssim,
        psnr=result.psnr,
        latency=[pb.StepLatency(step=step.removesuffix("_ms"), ms=ms) for step, ms in result.latency_ms.items()],
        total_latency_ms=result.latency_ms.get("total_ms", 0.0),
        fallback_reason=result.fallback_reason,
        mode=MODE_TO_WIRE[mode],
        qp=result.qp,
        frame_kind=result.kind,
        pts=pts,
        attempts=result.attempts,
    )


def error_response(message: str, pts: int = 0) -> pb.CompressResponse:
    return pb.CompressResponse(status=pb.COMPRESSION_STATUS_ERROR, error=message, pts=pts)


def frame_from_decoded(decoded: DecodedVideo | DecodedAudio) -> pb.Frame:
    if isinstance(decoded, DecodedAudio):
        samples = decoded.samples
        return pb.Frame(
            type=pb.FRAME_TYPE_AUDIO,
            pixel_format=pb.PIXEL_FORMAT_S16,
            sample_rate=decoded.sample_rate,
            channels=samples.shape[1],
            data=samples.astype("<i2").tobytes(),
        )
    return pb.Frame(
        type=pb.FRAME_TYPE_VIDEO,
        width=decoded.width,
        height=decoded.height,
        pixel_format=pb.PIXEL_FORMAT_YUV420P,
        keyframe=decoded.keyframe,
        data=b"".join(np.ascontiguousarray(plane).tobytes() for plane in decoded.planes),
    )


def network_sample(conditions: pb.NetworkConditions) -> NetworkSample:
    return NetworkSample(conditions.bandwidth_kbps, conditions.rtt_ms, conditions.loss, conditions.jitter_ms)
