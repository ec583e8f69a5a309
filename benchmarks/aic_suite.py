"""AIC against libjpeg-turbo, VP8 and x264, and its kernels against memory bandwidth (``auralink bench aic``).

Everything is measured side by side in one run on the same pictures: the
scikit-image photos and the first frames of carphone and bikes (intra, against
JPEG), the two clips (video, against VP8 as aiortc configures it and x264
ultrafast/zerolatency), per-frame encode and decode time on bikes scaled to
640x480 (one thread each), and the bandwidth-bound kernels' GB/s beside a numpy
memory copy. Definitions are those of ``benchmarks.aic_rd``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import aic_rd
from benchmarks.aic_media import PHOTOS, clip_path, photo, read_clip
from benchmarks.anchors import aic_codecs
from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from kernels import colour, metrics, reconstruct
from kernels.colour import Planes
from pipeline.aic.codec import AICDecoder, AICEncoder
from pipeline.aic.types import CompressOptions

CACHE = Path(__file__).resolve().parent.parent / ".auralink" / "cache" / "aic-media"
INTRA_QPS = (12, 16, 20, 24, 28, 32, 36, 40, 44)
JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
VIDEO_QPS = (20, 24, 28, 32, 36, 40, 44)
X264_CRFS = (15, 19, 23, 27, 31, 35, 39, 43)
VP8_BPP = (0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2)
FPS = 30


def _intra(options: BenchOptions, clips: dict[str, list[Planes]]) -> list[Figure]:
    pictures = {name: photo(name) for name in (PHOTOS[:2] if options.quick else PHOTOS)}
    pictures.update({f"{name}_frame0": frames[0] for name, frames in clips.items()})
    ratios = {}
    for name, picture in pictures.items():
        ours = aic_rd.curve([picture], aic_rd.aic, INTRA_QPS)
        theirs = aic_rd.curve([picture], lambda p, q: aic_codecs.jpeg(p[0], q), JPEG_QUALITIES)
        ratios[name] = aic_rd.bits_ratio_at_equal_ssim(ours, theirs)
    figures = [Figure(f"intra_bits_vs_jpeg_{name}", r, "ratio", "info") for name, r in ratios.items() if r]
    mean = statistics.geometric_mean([r for r in ratios.values() if r])
    figures.append(Figure("intra_bits_vs_jpeg", mean, "ratio", "lower", 0.1, target=0.8,
                          note="AIC bits / libjpeg-turbo bits at equal SSIM on Y; target: 20% fewer"))  # fmt: skip
    return figures


def _video(clips: dict[str, list[Planes]]) -> list[Figure]:
    figures = []
    versus: dict[str, list[float]] = {"x264": [], "vp8": []}
    for name, frames in clips.items():
        pixels_per_s = frames[0][0].size * FPS
        ours = aic_rd.curve(frames, aic_rd.aic, VIDEO_QPS)
        anchors = {
            "x264": aic_rd.curve(frames, aic_codecs.x264, X264_CRFS),
            "vp8": aic_rd.curve(frames, lambda f, b: aic_codecs.vp8(f, b), [int(b * pixels_per_s) for b in VP8_BPP]),
        }
        for anchor, theirs in anchors.items():
            ratio = aic_rd.bits_ratio_at_equal_ssim(ours, theirs)
            if ratio is not None:
                versus[anchor].append(ratio)
                figures.append(Figure(f"video_bits_vs_{anchor}_{name}", ratio, "ratio", "info"))
    figures.append(Figure("video_bits_vs_x264", statistics.geometric_mean(versus["x264"]), "ratio", "lower", 0.1,
                          target=1.0, note="AIC / x264 ultrafast zerolatency bits at equal SSIM"))  # fmt: skip
    figures.append(Figure("video_bits_vs_vp8", statistics.geometric_mean(versus["vp8"]), "ratio", "lower", 0.1,
                          target=1.1, note="AIC / VP8 realtime (aiortc's settings) bits at equal SSIM"))  # fmt: skip
    return figures


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def _timing(frames: list[Planes]) -> list[Figure]:
    """Per-frame encode and decode at 640x480 on one thread: AIC (adaptive, floor check included) and the anchors."""
    encoder, decoder = AICEncoder(), AICDecoder()
    total, codec, decode = [], [], []
    for picture in frames:
        result = encoder.compress_video(picture, CompressOptions())
        total.append(result.latency_ms["total_ms"] / 1000)
        codec.append((result.latency_ms["total_ms"] - result.latency_ms.get("quality_ms", 0.0)) / 1000)
        started = time.perf_counter()
        decoder.decompress(result.data)
        decode.append(time.perf_counter() - started)
    n = len(frames)
    vp8 = aic_codecs.vp8(frames, 500_000)
    x264 = aic_codecs.x264(frames, 23)
    jpeg = [aic_codecs.jpeg(picture, 75) for picture in frames[:20]]
    return [
        Figure("aic_encode_ms_640x480", _median_ms(total), "ms", "lower", 0.5, target=10.0,
               note="whole frame: motion, analysis, coding, SSIM floor check (median, inter frames mostly)"),
        Figure("aic_encode_without_check_ms_640x480", _median_ms(codec), "ms", "lower", 0.5),
        Figure("aic_decode_ms_640x480", _median_ms(decode), "ms", "lower", 0.5),
        Figure("vp8_encode_ms_640x480", vp8.encode_s / n * 1000, "ms", "info", note="aiortc settings, 500 kbit/s"),
        Figure("vp8_decode_ms_640x480", vp8.decode_s / n * 1000, "ms", "info"),
        Figure("x264_encode_ms_640x480", x264.encode_s / n * 1000, "ms", "info", note="ultrafast zerolatency crf 23"),
        Figure("x264_decode_ms_640x480", x264.decode_s / n * 1000, "ms", "info"),
        Figure("jpeg_encode_ms_640x480", statistics.median(j.encode_s for j in jpeg) * 1000, "ms", "info"),
        Figure("jpeg_decode_ms_640x480", statistics.median(j.decode_s for j in jpeg) * 1000, "ms", "info"),
    ]  # fmt: skip


def _best_seconds(work: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _bandwidth(options: BenchOptions) -> list[Figure]:
    """GB/s of the bandwidth-bound kernels on a 4K picture, beside numpy's memory copy of the same bytes."""
    repeats = 3 if options.quick else 10
    rng = np.random.default_rng(1)
    height, width = 2160, 3840
    a = rng.integers(0, 256, (height, width), dtype=np.uint8)
    b = rng.integers(0, 256, (height, width), dtype=np.uint8)
    residual = rng.normal(0, 8, (height, width)).astype(np.float32)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    vectors = rng.integers(-8, 9, (height // 16, width // 16, 2)).astype(np.int32)
    source = rng.integers(0, 256, 64 << 20, dtype=np.uint8)
    target = np.empty_like(source)
    copy_gbps = 2 * source.nbytes / _best_seconds(lambda: np.copyto(target, source), repeats) / 1e9
    kernels: dict[str, tuple[Callable[[], object], int]] = {
        "sse": (lambda: metrics.sum_squared_error(a, b), 2 * a.size),
        "reconstruct": (lambda: reconstruct.reconstruct(a, residual), a.size * 6),
        "motion_compensate": (lambda: reconstruct.motion_compensate(a, vectors), a.size * 2),
        "rgb_to_yuv420": (lambda: colour.rgb_to_yuv420(rgb), rgb.size + a.size * 3 // 2),
    }
    figures = [Figure("memcpy_gbps", copy_gbps, "GB/s", "info", note="numpy copyto, 64 MiB, read + write")]
    for name, (work, moved) in kernels.items():
        work()  # compiled (or loaded from cache) outside the timing
        gbps = moved / _best_seconds(work, repeats) / 1e9
        figures.append(Figure(f"{name}_gbps", gbps, "GB/s", "higher", 0.3))
        figures.append(Figure(f"{name}_of_memcpy", gbps / copy_gbps, "ratio", "higher", 0.3, target=0.5))
    return figures


@register_suite("aic")
def aic_suite(options: BenchOptions) -> SuiteResult:
    frames = 15 if options.quick else 60
    clips = {name.removesuffix(".mp4").removesuffix("_pristine"): read_clip(clip_path(name, CACHE), frames)
             for name in ("carphone_pristine.mp4", "bikes.mp4")}  # fmt: skip
    timing_frames = read_clip(clip_path("bikes.mp4", CACHE), 20 if options.quick else 90, size=(640, 480))
    figures = _bandwidth(options) + _timing(timing_frames) + _intra(options, clips) + _video(clips)
    result = SuiteResult("aic", figures, notes=[f"{frames} frames per clip; timings on bikes scaled to 640x480"])
    return stamp(result, "numba", "numpy", "av", "pillow", "scikit-image")
