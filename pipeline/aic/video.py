"""The AIC video codec: a stateful encoder and decoder for one stream of yuv420p pictures.

The encoder pads each picture to whole macroblocks, measures activity (and
motion, for inter pictures) to set each macroblock's quantiser offset, codes the
picture with the rate controller's qp, and checks the reconstruction's SSIM on
Y against the mode's floor — every frame. It retries at a finer qp while the
latency cap allows, and falls back to lossless coding (saying why) when the
floor cannot be met in time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kernels.lossless import med_reconstruct, med_residuals, rice_decode, rice_encode
from kernels.metrics import psnr, ssim
from kernels.motion import block_log_variance, motion_search
from kernels.picture import OK, decode_picture, encode_picture
from pipeline.aic import bitstream
from pipeline.aic.bitstream import BitstreamError, FrameKind, VideoHeader
from pipeline.aic.ratecontrol import MAX_ATTEMPTS, Attempt, RateController, frame_budget
from pipeline.aic.types import QUALITY_FLOOR, CompressOptions, CompressResult, Mode, Status

Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]

SEARCH_RANGE = 24
AQ_STRENGTH = 1.0
MAX_QP_OFFSET = 8
KEYFRAME_INTERVAL = 300
_DECODE_ERRORS = {1: "truncated picture data", 2: "motion vector outside the reference", 3: "corrupt symbol", 4: "qp"}


def check_planes(planes: Planes, width: int, height: int) -> None:
    """Raise :class:`BitstreamError` unless ``planes`` are yuv420p planes of ``width`` x ``height``."""
    bitstream.check_video_size(width, height)
    expected = ((height, width), (height // 2, width // 2), (height // 2, width // 2))
    if len(planes) != 3:
        raise BitstreamError(f"yuv420p needs 3 planes, got {len(planes)}")
    for name, plane, shape in zip("YUV", planes, expected, strict=True):
        if plane.dtype != np.uint8 or plane.shape != shape:
            raise BitstreamError(f"plane {name} is {plane.dtype} {plane.shape}, expected uint8 {shape}")


def raw_size(width: int, height: int) -> int:
    return width * height * 3 // 2


def pad_planes(planes: Planes) -> Planes:
    """Edge-extend to whole 16x16 macroblocks."""
    height, width = planes[0].shape
    pad_y, pad_x = -height % 16, -width % 16
    if not pad_y and not pad_x:
        return np.ascontiguousarray(planes[0]), np.ascontiguousarray(planes[1]), np.ascontiguousarray(planes[2])
    luma = np.pad(planes[0], ((0, pad_y), (0, pad_x)), mode="edge")
    chroma = [np.pad(p, ((0, pad_y // 2), (0, pad_x // 2)), mode="edge") for p in planes[1:]]
    return luma, chroma[0], chroma[1]


def crop_planes(planes: Planes, width: int, height: int) -> Planes:
    return planes[0][:height, :width], planes[1][: height // 2, : width // 2], planes[2][: height // 2, : width // 2]


def adaptive_offsets(luma: npt.NDArray[np.uint8], mvs: npt.NDArray[np.int32] | None) -> npt.NDArray[np.int32]:
    """Per-macroblock qp offsets: coarser where texture masks errors and where motion is fast."""
    activity = block_log_variance(luma)
    offsets = AQ_STRENGTH * (activity - float(activity.mean()))
    if mvs is not None:
        speed = np.abs(mvs).sum(axis=2)
        offsets += np.minimum(speed / 8.0, 2.0)
    clipped: npt.NDArray[np.int32] = np.clip(np.rint(offsets), -MAX_QP_OFFSET, MAX_QP_OFFSET).astype(np.int32)
    return clipped


def encode_lossless(planes: Planes) -> bytes:
    parts = []
    for plane in planes:
        residuals = med_residuals(np.ascontiguousarray(plane))
        out = np.empty(residuals.size * 7 + 16, dtype=np.uint8)
        parts.append(out[: rice_encode(residuals, out)].tobytes())
    sizes = (len(parts[0]), len(parts[1]), len(parts[2]))
    return bitstream.pack_lossless_planes(sizes) + b"".join(parts)


def decode_lossless(payload: memoryview, width: int, height: int) -> Planes:
    shapes = ((height, width), (height // 2, width // 2), (height // 2, width // 2))
    planes = []
    for part, (rows, cols) in zip(bitstream.parse_lossless_planes(payload), shapes, strict=True):
        residuals, complete = rice_decode(np.frombuffer(part, dtype=np.uint8), rows * cols)
        if not complete:
            raise BitstreamError("truncated lossless plane")
        planes.append(med_reconstruct(residuals, rows, cols))
    return planes[0], planes[1], planes[2]


@dataclass(slots=True)
class _Coded:
    payload: bytes
    recon: Planes
    skipped: int


_NO_VECTORS = np.zeros((1, 1, 2), dtype=np.int32)
_NO_SADS = np.zeros((1, 1), dtype=np.int32)


@dataclass(slots=True)
class _Job:
    """One picture on its way through the encoder."""

    planes: Planes
    padded: Planes
    original: int
    options: CompressOptions
    started: float
    latency: dict[str, float] = field(default_factory=dict)
    inter: bool = False
    offsets: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros((1, 1), dtype=np.int32))
    mvs: npt.NDArray[np.int32] = field(default_factory=lambda: _NO_VECTORS)
    sads: npt.NDArray[np.int32] = field(default_factory=lambda: _NO_SADS)


def _code_picture(job: _Job, refs: Planes, qp: int) -> _Coded:
    padded = job.padded
    recon: Planes = (np.empty_like(padded[0]), np.empty_like(padded[1]), np.empty_like(padded[2]))
    out = np.empty(padded[0].size * 3 + 4096, dtype=np.uint8)
    size, skipped = encode_picture(padded, refs, recon, job.inter, qp, job.offsets, job.mvs, job.sads, out)
    if size > out.size:
        raise BitstreamError("picture overflowed the coder's buffer")
    return _Coded(out[:size].tobytes(), recon, skipped)


class VideoEncoder:
    """Encodes one stream: the first picture (and every ``keyframe_interval``-th) intra, the rest inter."""

    def __init__(self, keyframe_interval: int = KEYFRAME_INTERVAL) -> None:
        self.keyframe_interval = keyframe_interval
        self.rate = RateController()
        self._reference: Planes | None = None
        self._size: tuple[int, int] | None = None
        self._sequence = 0
        self._since_keyframe = 0
        self._last_vectors: npt.NDArray[np.int32] | None = None

    def encode(self, planes: Planes, options: CompressOptions) -> CompressResult:
        started = time.perf_counter()
        height, width = planes[0].shape
        check_planes(planes, width, height)
        if self._size != (width, height):
            self._reference, self._size = None, (width, height)
        job = _Job(planes, pad_planes(planes), raw_size(width, height), options, started)
        if options.mode is Mode.OFF:
            return self._lossless(job)
        reference = self._reference
        job.inter = reference is not None and not options.keyframe and self._since_keyframe < self.keyframe_interval
        mark = time.perf_counter()
        if job.inter and reference is not None:
            job.mvs, job.sads = motion_search(job.padded[0], reference[0], SEARCH_RANGE, self._whole_vectors(job))
        job.latency["motion_ms"] = _ms(mark)
        mark = time.perf_counter()
        job.offsets = adaptive_offsets(job.padded[0], job.mvs if job.inter else None)
        self._last_vectors = job.mvs if job.inter else None
        job.latency["analysis_ms"] = _ms(mark)
        return self._lossy(job)

    def _whole_vectors(self, job: _Job) -> npt.NDArray[np.int32]:
        """The last inter picture's vectors in whole pixels (the temporal candidate), or zeros."""
        shape = (job.padded[0].shape[0] // 16, job.padded[0].shape[1] // 16, 2)
        if self._last_vectors is None or self._last_vectors.shape != shape:
            return np.zeros(shape, dtype=np.int32)
        return self._last_vectors >> 1

    def _attempts(self, job: _Job, budget: float | None) -> tuple[Attempt, _Coded, int]:
        """Code at the rate controller's qp, then finer or coarser while the latency cap allows."""
        options, floor = job.options, QUALITY_FLOOR[job.options.mode]
        refs = self._reference if job.inter and self._reference is not None else job.padded
        qp: int | None = self.rate.first_qp(options) if options.fixed_qp is None else options.fixed_qp
        best: tuple[Attempt, _Coded] | None = None
        attempts = 0
        encode_ms = quality_ms = 0.0
        height, width = job.planes[0].shape
        while qp is not None and attempts < MAX_ATTEMPTS:
            attempts += 1
            mark = time.perf_counter()
            coded = _code_picture(job, refs, qp)
            encode_ms += _ms(mark)
            mark = time.perf_counter()
            quality = float(ssim(job.planes[0], coded.recon[0][:height, :width]))
            quality_ms += _ms(mark)
            attempt = Attempt(qp, len(coded.payload), quality, _ms(job.started))
            if best is None or (best[0].ssim < floor and quality > best[0].ssim) or quality >= floor:
                best = (attempt, coded)
            qp = None if options.fixed_qp is not None else self.rate.retry_qp(attempt, budget, options)
            if qp is not None and _ms(job.started) + (encode_ms + quality_ms) / attempts > options.latency_cap_ms:
                break
        assert best is not None
        job.latency.update(encode_ms=encode_ms, quality_ms=quality_ms)
        return best[0], best[1], attempts

    def _lossy(self, job: _Job) -> CompressResult:
        options, floor = job.options, QUALITY_FLOOR[job.options.mode]
        budget = frame_budget(job.original, options)
        chosen, coded, attempts = self._attempts(job, budget)
        self.rate.finish(chosen, budget, options)
        if chosen.ssim < floor and options.allow_fallback:
            reason = (
                f"SSIM {chosen.ssim:.4f} below the {options.mode.value} floor {floor} "
                f"after {attempts} attempt(s) (finest qp {chosen.qp}) within the {options.latency_cap_ms:g} ms cap"
            )
            return self._lossless(job, reason, attempts)
        header = self._next_header(FrameKind.INTER if job.inter else FrameKind.INTRA, chosen.qp)
        self._reference = coded.recon
        data = bitstream.pack_video(header, coded.payload)
        cropped = crop_planes(coded.recon, header.width, header.height)
        job.latency["total_ms"] = _ms(job.started)
        status = Status.SUCCESS
        if chosen.ssim < floor:
            status = Status.QUALITY_NOT_MET
        elif job.latency["total_ms"] > options.latency_cap_ms:
            status = Status.TIMEOUT
        return CompressResult(
            data, status, job.original, chosen.ssim, psnr(job.planes[0], cropped[0]), job.latency, "", chosen.qp,
            header.kind.name.lower(), attempts,
        )  # fmt: skip

    def _lossless(self, job: _Job, reason: str = "", attempts: int = 0) -> CompressResult:
        mark = time.perf_counter()
        payload = encode_lossless(job.planes)
        job.latency["lossless_ms"] = _ms(mark)
        header = self._next_header(FrameKind.LOSSLESS, 0)
        self._reference = job.padded
        job.latency["total_ms"] = _ms(job.started)
        status = Status.FALLBACK if reason else Status.SUCCESS
        data = bitstream.pack_video(header, payload)
        return CompressResult(data, status, job.original, 1.0, 100.0, job.latency, reason, 0, "lossless", attempts)

    def _next_header(self, kind: FrameKind, qp: int) -> VideoHeader:
        assert self._size is not None
        sequence = self._sequence
        self._sequence = (self._sequence + 1) % (1 << 32)
        keyframe = kind is not FrameKind.INTER
        self._since_keyframe = 0 if keyframe else self._since_keyframe + 1
        reference = sequence if keyframe else (sequence - 1) % (1 << 32)
        return VideoHeader(kind, self._size[0], self._size[1], qp, sequence, reference, keyframe)


class VideoDecoder:
    """Decodes one stream; inter frames need the frame they refer to to have been decoded just before."""

    def __init__(self) -> None:
        self._reference: Planes | None = None
        self._reference_key: tuple[int, int, int] | None = None

    def decode(self, kind: FrameKind, flags: int, body: memoryview) -> tuple[VideoHeader, Planes]:
        header, payload = bitstream.parse_video(kind, flags, body)
        width, height = header.width, header.height
        if kind is FrameKind.LOSSLESS:
            planes = decode_lossless(payload, width, height)
            padded = pad_planes(planes)
        else:
            padded = self._decode_lossy(header, payload)
            planes = crop_planes(padded, width, height)
        self._reference, self._reference_key = padded, (header.sequence, width, height)
        return header, planes

    def _decode_lossy(self, header: VideoHeader, payload: memoryview) -> Planes:
        pad_w, pad_h = header.width + (-header.width % 16), header.height + (-header.height % 16)
        recon: Planes = (
            np.empty((pad_h, pad_w), np.uint8),
            np.empty((pad_h // 2, pad_w // 2), np.uint8),
            np.empty((pad_h // 2, pad_w // 2), np.uint8),
        )
        inter = header.kind is FrameKind.INTER
        if inter and self._reference_key != (header.reference, header.width, header.height):
            raise BitstreamError(
                f"inter frame {header.sequence} refers to frame {header.reference}, which this decoder does not hold"
                " (decode the stream in order from its keyframe)"
            )
        refs = self._reference if inter and self._reference is not None else recon
        status = decode_picture(np.frombuffer(payload, dtype=np.uint8), refs, recon, inter, header.qp)
        if status != OK:
            raise BitstreamError(f"corrupt picture data: {_DECODE_ERRORS.get(status, 'error')}")
        return recon


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0
