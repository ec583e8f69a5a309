"""The AIC gRPC service end to end: a real grpc.aio server on 127.0.0.1 (port 0) and the Python client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest

from benchmarks.aic_media import photo, ssim_y
from kernels.colour import Planes
from pipeline.aic.client import AICClient, audio_request, video_request
from pipeline.aic.codec import AICDecoder
from pipeline.aic.network import NetworkSample
from pipeline.aic.service import start_server
from pipeline.aic.types import QUALITY_FLOOR, Mode
from protos.gen import aic_compression_pb2 as pb
from tests.pipeline.aic.helpers import decode_video

CAP_MS = 1000.0


@pytest.fixture
async def client() -> AsyncIterator[AICClient]:
    server, port = await start_server("127.0.0.1", 0)
    try:
        async with AICClient(f"127.0.0.1:{port}") as connected:
            yield connected
    finally:
        await server.stop(None)


async def test_health_reports_serving_on_cpu(client: AICClient) -> None:
    health = await client.health()
    assert health.status == pb.HealthCheckResponse.SERVING_STATUS_SERVING
    assert health.bitstream_version == 1
    assert health.device == "cpu"


@pytest.mark.parametrize("mode", list(Mode))
async def test_compress_and_decompress_a_photo_in_every_mode(client: AICClient, mode: Mode) -> None:
    source = photo("chelsea")
    response = await client.compress(video_request(source, mode, pts=42, latency_cap_ms=CAP_MS))
    assert response.status in (pb.COMPRESSION_STATUS_SUCCESS, pb.COMPRESSION_STATUS_TIMEOUT), response.error
    assert response.pts == 42
    assert response.original_size == source[0].size * 3 // 2
    assert response.compressed_size == len(response.data)
    assert response.ratio == pytest.approx(response.original_size / response.compressed_size)
    assert {step.step for step in response.latency} >= ({"total"} if mode is Mode.OFF else {"encode", "quality"})
    decoded = await client.decompress_video(response.data)
    assert ssim_y(source[0], decoded[0]) >= QUALITY_FLOOR[mode]
    assert ssim_y(source[0], decoded[0]) == pytest.approx(response.ssim, abs=1e-6)


async def test_compress_stream_is_bidirectional_and_keeps_the_reference(
    client: AICClient, carphone: list[Planes]
) -> None:
    requests = [
        video_request(picture, Mode.ADAPTIVE, pts=index, latency_cap_ms=CAP_MS)
        for index, picture in enumerate(carphone[:40])
    ]
    requests.insert(20, video_request(carphone[0][:1], Mode.ADAPTIVE, pts=-1))  # type: ignore[arg-type]
    decoder = AICDecoder()
    kinds = []
    pts = []
    async for response in client.compress_stream(requests):
        pts.append(response.pts)
        if response.status == pb.COMPRESSION_STATUS_ERROR:
            assert "plane" in response.error or "bytes" in response.error
            continue
        decoded = decode_video(decoder, response.data)
        assert ssim_y(carphone[response.pts][0], decoded.planes[0]) >= QUALITY_FLOOR[Mode.ADAPTIVE]
        kinds.append(response.frame_kind)
    assert pts == [*range(20), -1, *range(20, 40)]  # one response per request, in order; a bad frame does not end it
    assert kinds[0] == "intra" and kinds.count("inter") >= 35


async def test_a_named_stream_codes_inter_frames_across_unary_calls(client: AICClient, carphone: list[Planes]) -> None:
    first = await client.compress(video_request(carphone[0], stream_id="call-1", latency_cap_ms=CAP_MS))
    second = await client.compress(video_request(carphone[1], stream_id="call-1", latency_cap_ms=CAP_MS))
    assert (first.frame_kind, second.frame_kind) == ("intra", "inter")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.decompress_video(second.data, stream_id="other")
    assert missing.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await client.decompress_video(first.data, stream_id="rx")
    decoded = await client.decompress_video(second.data, stream_id="rx")
    assert ssim_y(carphone[1][0], decoded[0]) >= 0.85


async def test_audio_round_trips_exactly(client: AICClient) -> None:
    tone = (np.sin(np.arange(1920) / 9.0) * 12000).astype(np.int16).reshape(-1, 2)
    response = await client.compress(audio_request(tone, 48000, latency_cap_ms=CAP_MS))
    assert response.frame_kind == "audio" and response.ratio > 1.5
    assert np.array_equal(await client.decompress_audio(response.data), tone)


async def test_hints_predict_without_compressing(client: AICClient) -> None:
    source = photo("astronaut")
    hints = await client.hints(video_request(source, Mode.ADAPTIVE))
    actual = await client.compress(video_request(source, Mode.ADAPTIVE, latency_cap_ms=CAP_MS))
    assert hints.qp == actual.qp
    assert abs(hints.predicted_ssim - actual.ssim) < 0.03
    assert 0.5 < hints.predicted_ratio / actual.ratio < 2.0
    assert hints.predicted_latency_ms > 0


async def test_network_analysis_recommends_modes_by_bandwidth(client: AICClient) -> None:
    slow = await client.analyze_network([NetworkSample(800, 120, 0.02)] * 5)
    assert slow.recommended_mode == pb.COMPRESSION_MODE_AGGRESSIVE
    middle = await client.analyze_network([NetworkSample(3000, 40, 0.0)] * 5)
    assert middle.recommended_mode == pb.COMPRESSION_MODE_ADAPTIVE
    steady = await client.analyze_network([NetworkSample(20000, 20, 0.0)] * 5)
    assert steady.recommended_mode == pb.COMPRESSION_MODE_CONSERVATIVE and steady.stability == pytest.approx(1.0)
    erratic = await client.analyze_network(
        [NetworkSample(rate, 30, 0.01) for rate in (20000, 2000, 15000, 1500, 18000)]
    )
    assert erratic.stability < 0.5
    assert erratic.predicted_bandwidth_kbps < 6000  # the harmonic mean follows the slow samples
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await client.analyze_network([])
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_network_picks_the_mode_when_the_request_does_not(client: AICClient) -> None:
    request = video_request(photo("camera"), latency_cap_ms=CAP_MS)
    request.mode = pb.COMPRESSION_MODE_UNSPECIFIED
    request.network.bandwidth_kbps = 600
    response = await client.compress(request)
    assert response.mode == pb.COMPRESSION_MODE_AGGRESSIVE


def _frame(width: int, height: int, data: bytes = b"", **fields: object) -> pb.CompressRequest:
    frame = pb.Frame(type=pb.FRAME_TYPE_VIDEO, width=width, height=height, data=data, **fields)  # type: ignore[arg-type]
    return pb.CompressRequest(frame=frame)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (_frame(0, 0), "unsupported picture size 0x0"),
        (_frame(100000, 100000), "unsupported picture size 100000x100000"),
        (_frame(64, 64, b"\x00" * 100), "frame data is 100 bytes; 64x64 yuv420p needs 6144"),
        (_frame(63, 64, b"\x00" * 6048), "even sides"),
        (_frame(64, 64, b"\x00" * 8192, pixel_format=pb.PIXEL_FORMAT_S16), "unsupported pixel format PIXEL_FORMAT_S16"),
        (pb.CompressRequest(frame=pb.Frame(data=b"x")), "frame.type must be video, screen or audio"),
        (pb.CompressRequest(frame=pb.Frame(type=pb.FRAME_TYPE_AUDIO, channels=1, sample_rate=16000, data=b"abc")),
         "not whole s16 samples"),
        (pb.CompressRequest(frame=pb.Frame(type=pb.FRAME_TYPE_AUDIO, channels=1, sample_rate=5, data=b"ab")),
         "sample_rate must be 8000..192000"),
    ],
)  # fmt: skip
async def test_bad_frames_get_invalid_argument_with_a_reason(
    client: AICClient, request_: pb.CompressRequest, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await client.compress(request_)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (error.value.details() or "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target_ratio": -1.0}, "target_ratio must be within 0..1000"),
        ({"target_ratio": 0.5}, "at least 1"),
        ({"target_ratio": float("nan")}, "target_ratio"),
        ({"latency_cap_ms": 1e9}, "latency_cap_ms must be within"),
        ({"target_bitrate_kbps": -5.0}, "target_bitrate_kbps"),
    ],
)
async def test_out_of_range_targets_get_invalid_argument(
    client: AICClient, fields: dict[str, float], message: str
) -> None:
    request = video_request(photo("camera"))
    for name, value in fields.items():
        setattr(request, name, value)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await client.compress(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (error.value.details() or "")


async def test_corrupt_bitstreams_get_invalid_argument(client: AICClient) -> None:
    response = await client.compress(video_request(photo("camera"), latency_cap_ms=CAP_MS))
    for damaged, reason in [(response.data[:50], "truncated"), (b"hello", "truncated frame"), (b"x" * 64, "bad magic")]:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await client.decompress_video(damaged)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason in (error.value.details() or "")
