"""The AIC codec on real pictures: every mode holds its floor on every frame; inter, skip, fallback, rates, audio."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest

from benchmarks.aic_media import PHOTOS, photo
from kernels.colour import Planes
from pipeline.aic.codec import AICDecoder, AICEncoder, DecodedAudio
from pipeline.aic.types import QUALITY_FLOOR, CompressOptions, Mode, Status
from tests.pipeline.aic.helpers import assert_floor_held, decode_video
from tests.support.paths import SPEECH_SAMPLE

GENEROUS = 1000.0
"""A latency cap for correctness tests: the shared 2-core machine is too noisy for the 20 ms default."""


@pytest.mark.parametrize("mode", list(Mode))
def test_photos_round_trip_in_every_mode_with_the_floor_held(mode: Mode) -> None:
    for name in PHOTOS:
        source = photo(name)
        encoder, decoder = AICEncoder(), AICDecoder()
        result = encoder.compress_video(source, CompressOptions(mode=mode, latency_cap_ms=GENEROUS))
        decoded = decode_video(decoder, result.data)
        assert (decoded.width, decoded.height) == (source[0].shape[1], source[0].shape[0])
        assert_floor_held(source, result, decoded, mode)
        assert result.ratio > (1.5 if mode is Mode.OFF else 4), (name, mode, result.ratio)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [Mode.CONSERVATIVE, Mode.ADAPTIVE, Mode.AGGRESSIVE])
def test_every_carphone_frame_holds_the_floor_through_inter_coding(carphone: list[Planes], mode: Mode) -> None:
    encoder, decoder = AICEncoder(), AICDecoder()
    kinds = []
    for source in carphone:
        result = encoder.compress_video(source, CompressOptions(mode=mode, latency_cap_ms=GENEROUS))
        assert_floor_held(source, result, decode_video(decoder, result.data), mode)
        kinds.append(result.kind)
    assert kinds[0] == "intra"
    assert kinds.count("inter") > 100


@pytest.mark.slow
def test_bikes_frames_hold_the_floor_and_inter_frames_cost_less(bikes: list[Planes]) -> None:
    encoder, decoder = AICEncoder(), AICDecoder()
    sizes: dict[str, list[int]] = {"intra": [], "inter": [], "lossless": []}
    for source in bikes:
        result = encoder.compress_video(source, CompressOptions(mode=Mode.ADAPTIVE, latency_cap_ms=GENEROUS))
        assert_floor_held(source, result, decode_video(decoder, result.data), Mode.ADAPTIVE)
        sizes[result.kind].append(result.compressed_size)
    assert np.mean(sizes["inter"]) < 0.5 * np.mean(sizes["intra"])


def test_unchanged_screen_content_costs_almost_nothing() -> None:
    screen = photo("camera")
    encoder, decoder = AICEncoder(), AICDecoder()
    first = encoder.compress_video(screen, CompressOptions(latency_cap_ms=GENEROUS))
    decode_video(decoder, first.data)
    changed = (screen[0].copy(), screen[1], screen[2])
    changed[0][40:56, 40:120] = 255  # a small region changes (a cursor line, a typed word)
    second = encoder.compress_video(changed, CompressOptions(latency_cap_ms=GENEROUS))
    decoded = decode_video(decoder, second.data)
    assert second.kind == "inter"
    assert second.compressed_size < first.compressed_size / 50
    before = decode_video(AICDecoder(), first.data).planes[0]
    assert np.mean(decoded.planes[0][100:, :] == before[100:, :]) > 0.9  # far from the change: mostly skipped
    still = encoder.compress_video(changed, CompressOptions(latency_cap_ms=GENEROUS))
    assert still.compressed_size < first.compressed_size / 100


def test_a_frame_that_cannot_meet_its_floor_in_time_falls_back_losslessly_and_says_why() -> None:
    source = photo("coffee")
    encoder = AICEncoder()
    encoder.video.rate.qp["conservative"] = 51  # far too coarse for 0.95
    options = CompressOptions(mode=Mode.CONSERVATIVE, latency_cap_ms=0.001)
    result = encoder.compress_video(source, options)
    assert result.status is Status.FALLBACK
    assert "below the conservative floor 0.95" in result.fallback_reason
    assert "0.001 ms cap" in result.fallback_reason
    decoded = decode_video(AICDecoder(), result.data)
    assert all(np.array_equal(a, b) for a, b in zip(source, decoded.planes, strict=True))


def test_with_time_to_retry_the_codec_refines_instead_of_falling_back() -> None:
    source = photo("coffee")
    encoder = AICEncoder()
    encoder.video.rate.qp["conservative"] = 40
    result = encoder.compress_video(source, CompressOptions(mode=Mode.CONSERVATIVE, latency_cap_ms=GENEROUS))
    assert result.status is Status.SUCCESS
    assert result.attempts > 1
    assert result.ssim >= QUALITY_FLOOR[Mode.CONSERVATIVE]


def test_without_fallback_a_missed_floor_is_reported() -> None:
    encoder = AICEncoder()
    encoder.video.rate.qp["conservative"] = 51
    options = CompressOptions(mode=Mode.CONSERVATIVE, latency_cap_ms=0.001, allow_fallback=False)
    result = encoder.compress_video(photo("coffee"), options)
    assert result.status is Status.QUALITY_NOT_MET
    assert result.ssim < 0.95


def test_rate_control_reaches_a_target_ratio_that_the_floor_allows(carphone: list[Planes]) -> None:
    encoder = AICEncoder()
    options = CompressOptions(mode=Mode.ADAPTIVE, target_ratio=100, latency_cap_ms=GENEROUS)
    results = [encoder.compress_video(source, options) for source in carphone[:30]]
    assert all(r.ssim >= QUALITY_FLOOR[Mode.ADAPTIVE] for r in results)
    assert np.mean([r.ratio for r in results[10:]]) >= 100 * 0.9
    free = AICEncoder()
    unconstrained = [
        free.compress_video(source, dataclasses.replace(options, target_ratio=0)) for source in carphone[:30]
    ]
    assert sum(r.compressed_size for r in results) < sum(r.compressed_size for r in unconstrained)


def test_a_keyframe_request_codes_intra_and_restarts_the_chain(carphone: list[Planes]) -> None:
    encoder, decoder = AICEncoder(), AICDecoder()
    options = CompressOptions(latency_cap_ms=GENEROUS)
    kinds = [encoder.compress_video(carphone[0], options).kind, encoder.compress_video(carphone[1], options).kind]
    forced = encoder.compress_video(carphone[2], dataclasses.replace(options, keyframe=True))
    assert kinds == ["intra", "inter"]
    assert forced.kind == "intra"
    assert decode_video(decoder, forced.data).keyframe  # decodable alone, without the frames before it


def test_speech_round_trips_losslessly() -> None:
    with av.open(str(SPEECH_SAMPLE)) as container:
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    samples = np.concatenate(chunks, axis=1).T.astype(np.int16)
    encoder, decoder = AICEncoder(), AICDecoder()
    total_in = total_out = 0
    for start in range(0, samples.shape[0], 320):
        chunk = np.ascontiguousarray(samples[start : start + 320])
        result = encoder.compress_audio(chunk, 16000, CompressOptions(latency_cap_ms=GENEROUS))
        decoded = decoder.decompress(result.data)
        assert isinstance(decoded, DecodedAudio)
        assert np.array_equal(decoded.samples, chunk)
        total_in += chunk.nbytes
        total_out += result.compressed_size
    assert total_in / total_out > 1.3
