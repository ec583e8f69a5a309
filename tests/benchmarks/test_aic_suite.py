"""The AIC benchmark's definitions and anchors, on small inputs (the full run is ``auralink bench aic``)."""

from __future__ import annotations

import math

import pytest

from benchmarks import aic_rd, aic_suite
from benchmarks.aic_media import clip_path, photo, read_clip, ssim_y
from benchmarks.anchors import aic_codecs
from benchmarks.core import BenchOptions
from tests.support.paths import AIC_MEDIA_CACHE as MEDIA_CACHE


def test_bits_at_equal_ssim_interpolate_log_bpp() -> None:
    ours = [aic_rd.Point(0.5, 0.90), aic_rd.Point(1.0, 0.95)]
    half = [aic_rd.Point(1.0, 0.90), aic_rd.Point(2.0, 0.95)]
    assert aic_rd.bits_ratio_at_equal_ssim(ours, half) == pytest.approx(0.5)
    shifted = [aic_rd.Point(0.5, 0.925), aic_rd.Point(1.0, 0.975)]
    # over the shared range 0.925..0.95 ours needs 2^0.5..2^1 x 0.5 bpp and theirs 0.5..0.707: ratio sqrt(2)
    assert aic_rd.bits_ratio_at_equal_ssim(ours, shifted) == pytest.approx(math.sqrt(2))
    assert aic_rd.bits_ratio_at_equal_ssim(ours, [aic_rd.Point(1, 0.97), aic_rd.Point(2, 0.99)]) is None


def test_every_codec_is_judged_on_its_own_decoder_output() -> None:
    frames = read_clip(clip_path("carphone_pristine.mp4", MEDIA_CACHE), max_frames=6)
    for coded in (aic_codecs.x264(frames, 28), aic_codecs.vp8(frames, 200_000), aic_rd.aic(frames, 30)):
        point = aic_rd.point(frames, coded)
        assert 0.0 < point.bpp < 2.0 and 0.8 < point.ssim < 1.0
    picture = photo("camera")
    jpeg = aic_codecs.jpeg(picture, 50)
    assert 0.85 < ssim_y(picture[0], jpeg.decoded_luma[0]) < 1.0


def test_bandwidth_figures_are_reported_beside_memcpy() -> None:
    figures = {figure.name: figure for figure in aic_suite._bandwidth(BenchOptions(quick=True))}
    assert figures["memcpy_gbps"].value > 0.5
    assert figures["sse_of_memcpy"].target == 0.5
