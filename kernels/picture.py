"""Picture kernels: one yuv420p picture coded macroblock by macroblock, and decoded again.

A macroblock is 16x16 luma plus 8x8 of each chroma plane (six 8x8 blocks). In
an intra picture every macroblock is intra: its blocks are coded against a flat
grey prediction, with each block's DC predicted from the previous intra block of
its plane. In an inter picture a macroblock is either

* **skip** — zero motion and no residual: the previous reconstruction is copied,
  so static regions (screen content) cost a fraction of a bit;
* **inter** — motion-compensated from the previous reconstruction, the vector
  coded against its left neighbour's, plus the residual;
* **intra** — when no vector predicts it well (uncovered background, cuts).

Each macroblock carries its quantiser offset (adaptive quantisation). The
encoder reconstructs exactly as the decoder does, so both keep the same
reference. Planes must be padded to multiples of 16 (luma) and 8 (chroma).

Decoder status codes: ``OK``, ``TRUNCATED`` (read past the data),
``BAD_VECTOR`` (a vector pointing outside the reference), ``BAD_SYMBOL``
(a prefix or level no encoder writes), ``BAD_QP``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from kernels.blockcoder import (
    CTX_DC_CHROMA,
    CTX_DC_LUMA,
    CTX_INTRA,
    CTX_MV_X,
    CTX_MV_Y,
    CTX_QP_OFFSET,
    CTX_SKIP,
    N_CONTEXTS,
    decode_block,
    encode_block,
)
from kernels.entropy import (
    OVERRUN,
    PROB_INIT,
    decode_bit,
    decode_signed,
    decoder_init,
    encode_bit,
    encode_signed,
    encoder_finish,
    new_encoder_state,
)
from kernels.motion import block_sad
from kernels.reconstruct import interpolate_block, store_block, store_prediction, vector_fits
from kernels.transform import MAX_QP, QSTEP, dequantise_block, fdct8x8, idct8x8, quantise_block

OK, TRUNCATED, BAD_VECTOR, BAD_SYMBOL, BAD_QP = 0, 1, 2, 3, 4
INTRA_ROUNDING = 1.0 / 3.0
INTER_ROUNDING = 1.0 / 6.0
SKIP_ERROR = 0.25
"""A static macroblock whose mean error is under a quarter step (uniform quantisation's own error) skips."""
INTRA_BIAS = 512
"""SAD an intra macroblock must win by: intra costs more bits at equal distortion."""


@njit(cache=True)
def _block_origin(block: int, mby: int, mbx: int) -> tuple[int, int, int]:
    """(plane, y, x) of block 0-3 (luma, raster order) or 4-5 (U, V) of a macroblock."""
    if block < 4:
        return 0, mby * 16 + 8 * (block // 2), mbx * 16 + 8 * (block % 2)
    return block - 3, mby * 8, mbx * 8


@njit(cache=True)
def _intra_cost(y_plane: npt.NDArray[np.uint8], mby: int, mbx: int) -> int:
    total = 0
    for row in range(16):
        for col in range(16):
            total += np.int64(y_plane[mby * 16 + row, mbx * 16 + col])
    mean = total // 256
    cost = 0
    for row in range(16):
        for col in range(16):
            cost += abs(np.int64(y_plane[mby * 16 + row, mbx * 16 + col]) - mean)
    return cost


@njit(cache=True)
def _prediction(
    refs: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    plane: int,
    y: int,
    x: int,
    intra: bool,
    dy: int,
    dx: int,
    out: npt.NDArray[np.float32],
) -> None:
    if intra:
        out[:, :] = 128.0
    elif plane == 0:
        interpolate_block(refs[0], 2 * y + dy, 2 * x + dx, 8, out)
    else:
        interpolate_block(refs[plane], 2 * y + (dy >> 1), 2 * x + (dx >> 1), 8, out)


@njit(cache=True)
def _reconstruct_block(
    levels: npt.NDArray[np.int32],
    coded: bool,
    dc_step: float,
    ac_step: float,
    prediction: npt.NDArray[np.float32],
    plane: npt.NDArray[np.uint8],
    y: int,
    x: int,
) -> None:
    """Prediction plus the dequantised residual; blocks with no levels skip the inverse transform."""
    if not coded:
        store_prediction(prediction, plane, y, x)
        return
    coeffs = np.empty((8, 8), dtype=np.float32)
    residual = np.empty((8, 8), dtype=np.float32)
    dequantise_block(levels, dc_step, ac_step, coeffs)
    idct8x8(coeffs, residual)
    store_block(prediction, residual, plane, y, x)


@njit(cache=True)
def _has_levels(levels: npt.NDArray[np.int32]) -> bool:
    for i in range(levels.shape[0]):  # noqa: SIM110 - numba compiles loops, not generators
        if levels[i] != 0:
            return True
    return False


@njit(cache=True)
def _context(flags: npt.NDArray[np.uint8], mby: int, mbx: int) -> int:
    left = flags[mby, mbx - 1] if mbx > 0 else 0
    top = flags[mby - 1, mbx] if mby > 0 else 0
    return int(left) + int(top)


@njit(cache=True)
def _mode_decision(
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    refs: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    mby: int,
    mbx: int,
    sad: int,
    ac_step: float,
) -> tuple[bool, bool]:
    """(skip, intra) for a macroblock of an inter picture, decided before any transform."""
    y, x = mby * 16, mbx * 16
    if block_sad(planes[0], refs[0], y, x, y, x, 1 << 30) <= 256 * SKIP_ERROR * ac_step:
        return True, False
    if sad <= INTRA_BIAS:
        return False, False
    return False, _intra_cost(planes[0], mby, mbx) + INTRA_BIAS < sad


@njit(cache=True)
def _transform_macroblock(
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    refs: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    mby: int,
    mbx: int,
    intra: bool,
    dy: int,
    dx: int,
    steps: tuple[float, float, float],
    preds: npt.NDArray[np.float32],
    levels: npt.NDArray[np.int32],
    counts: npt.NDArray[np.int32],
) -> int:
    """Predict, transform and quantise the six blocks; returns the count of non-zero levels."""
    dc_step, ac_step, rounding = steps
    residual = np.empty((8, 8), dtype=np.float32)
    coeffs = np.empty((8, 8), dtype=np.float32)
    nonzero = 0
    for block in range(6):
        plane, y, x = _block_origin(block, mby, mbx)
        _prediction(refs, plane, y, x, intra, dy, dx, preds[block])
        source = planes[plane]
        for row in range(8):
            for col in range(8):
                residual[row, col] = source[y + row, x + col] - preds[block, row, col]
        fdct8x8(residual, coeffs)
        counts[block] = quantise_block(coeffs, dc_step, ac_step, rounding, levels[block])
        nonzero += counts[block]
    return nonzero


@njit(cache=True)
def _code_blocks(
    state: npt.NDArray[np.int64],
    out: npt.NDArray[np.uint8],
    probs: npt.NDArray[np.int32],
    levels: npt.NDArray[np.int32],
    intra: bool,
    dc_prediction: npt.NDArray[np.int64],
) -> None:
    for block in range(6):
        plane = 0 if block < 4 else block - 3
        cls = 2 * (1 if plane > 0 else 0) + (0 if intra else 1)
        if intra:
            dc_ctx = CTX_DC_LUMA if plane == 0 else CTX_DC_CHROMA
            encode_signed(state, out, probs, dc_ctx, levels[block, 0] - dc_prediction[plane])
            dc_prediction[plane] = levels[block, 0]
        encode_block(state, out, probs, levels[block], 1 if intra else 0, cls)


@njit(cache=True)
def encode_picture(
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    refs: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    recon: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    inter: bool,
    qp: int,
    qp_offsets: npt.NDArray[np.int32],
    mvs: npt.NDArray[np.int32],
    sads: npt.NDArray[np.int32],
    out: npt.NDArray[np.uint8],
) -> tuple[int, int]:
    """Code one picture into ``out`` and its reconstruction into ``recon``; returns (bytes, skipped macroblocks)."""
    rows, cols = planes[0].shape[0] // 16, planes[0].shape[1] // 16
    state = new_encoder_state()
    probs = np.full(N_CONTEXTS, PROB_INIT, dtype=np.int32)
    skip_flags = np.zeros((rows, cols), dtype=np.uint8)
    intra_flags = np.zeros((rows, cols), dtype=np.uint8)
    levels = np.zeros((6, 64), dtype=np.int32)
    counts = np.zeros(6, dtype=np.int32)
    preds = np.empty((6, 8, 8), dtype=np.float32)
    dc_prediction = np.zeros(3, dtype=np.int64)
    dc_step = QSTEP[qp]
    skipped = 0
    for mby in range(rows):
        left_dy, left_dx = 0, 0
        for mbx in range(cols):
            mb_qp = min(max(qp + qp_offsets[mby, mbx], 0), MAX_QP)
            ac_step = QSTEP[mb_qp]
            skip, intra = False, not inter
            if inter:
                skip, intra = _mode_decision(planes, refs, mby, mbx, sads[mby, mbx], ac_step)
            dy, dx = (mvs[mby, mbx, 0], mvs[mby, mbx, 1]) if inter and not (skip or intra) else (0, 0)
            if skip:
                counts[:] = 0
                for block in range(6):
                    plane, y, x = _block_origin(block, mby, mbx)
                    _prediction(refs, plane, y, x, False, 0, 0, preds[block])
            else:
                rounding = INTRA_ROUNDING if intra else INTER_ROUNDING
                nonzero = _transform_macroblock(
                    planes, refs, mby, mbx, intra, dy, dx, (dc_step, ac_step, rounding), preds, levels, counts
                )
                skip = inter and not intra and dy == 0 and dx == 0 and nonzero == 0
            if inter:
                encode_bit(state, out, probs, CTX_SKIP + _context(skip_flags, mby, mbx), 1 if skip else 0)
            if skip:
                skip_flags[mby, mbx] = 1
                skipped += 1
                left_dy, left_dx = 0, 0
            else:
                if inter:
                    encode_bit(state, out, probs, CTX_INTRA + _context(intra_flags, mby, mbx), 1 if intra else 0)
                    if not intra:
                        encode_signed(state, out, probs, CTX_MV_Y, dy - left_dy)
                        encode_signed(state, out, probs, CTX_MV_X, dx - left_dx)
                intra_flags[mby, mbx] = 1 if intra else 0
                left_dy, left_dx = dy, dx
                encode_signed(state, out, probs, CTX_QP_OFFSET, mb_qp - qp)
                _code_blocks(state, out, probs, levels, intra, dc_prediction)
            for block in range(6):
                plane, y, x = _block_origin(block, mby, mbx)
                _reconstruct_block(levels[block], counts[block] > 0, dc_step, ac_step, preds[block], recon[plane], y, x)
    return encoder_finish(state, out), skipped


@njit(cache=True)
def decode_picture(
    data: npt.NDArray[np.uint8],
    refs: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    recon: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    inter: bool,
    qp: int,
) -> int:
    """Decode into ``recon`` (padded planes); returns a status code (``OK`` or what is wrong)."""
    rows, cols = recon[0].shape[0] // 16, recon[0].shape[1] // 16
    height, width = recon[0].shape
    state = decoder_init(data)
    probs = np.full(N_CONTEXTS, PROB_INIT, dtype=np.int32)
    skip_flags = np.zeros((rows, cols), dtype=np.uint8)
    intra_flags = np.zeros((rows, cols), dtype=np.uint8)
    levels = np.zeros((6, 64), dtype=np.int32)
    pred = np.empty((8, 8), dtype=np.float32)
    dc_prediction = np.zeros(3, dtype=np.int64)
    dc_step = QSTEP[qp]
    for mby in range(rows):
        left_dy, left_dx = 0, 0
        for mbx in range(cols):
            if state[OVERRUN] > 0:
                return TRUNCATED
            skip = inter and decode_bit(state, data, probs, CTX_SKIP + _context(skip_flags, mby, mbx)) == 1
            intra = not inter
            dy, dx, mb_qp = 0, 0, qp
            if skip:
                skip_flags[mby, mbx] = 1
                levels[:, :] = 0
            else:
                if inter:
                    intra = decode_bit(state, data, probs, CTX_INTRA + _context(intra_flags, mby, mbx)) == 1
                    if not intra:
                        vy, ok_y = decode_signed(state, data, probs, CTX_MV_Y)
                        vx, ok_x = decode_signed(state, data, probs, CTX_MV_X)
                        if not (ok_y and ok_x):
                            return BAD_SYMBOL
                        dy, dx = left_dy + vy, left_dx + vx
                        if not vector_fits(mby * 16, mbx * 16, dy, dx, height, width):
                            return BAD_VECTOR
                intra_flags[mby, mbx] = 1 if intra else 0
                left_dy, left_dx = dy, dx
                offset, ok = decode_signed(state, data, probs, CTX_QP_OFFSET)
                mb_qp = qp + offset
                if not ok or mb_qp < 0 or mb_qp > MAX_QP:
                    return BAD_QP
                for block in range(6):
                    plane = 0 if block < 4 else block - 3
                    cls = 2 * (1 if plane > 0 else 0) + (0 if intra else 1)
                    if intra:
                        dc_ctx = CTX_DC_LUMA if plane == 0 else CTX_DC_CHROMA
                        delta, ok = decode_signed(state, data, probs, dc_ctx)
                        if not ok or abs(delta) > 1 << 16:
                            return BAD_SYMBOL
                        dc_prediction[plane] += delta
                        levels[block, 0] = dc_prediction[plane]
                    if not decode_block(state, data, probs, levels[block], 1 if intra else 0, cls):
                        return BAD_SYMBOL
            if skip:
                left_dy, left_dx = 0, 0
            ac_step = QSTEP[mb_qp]
            for block in range(6):
                plane, y, x = _block_origin(block, mby, mbx)
                _prediction(refs, plane, y, x, intra, dy, dx, pred)
                coded = not skip and _has_levels(levels[block])
                _reconstruct_block(levels[block], coded, dc_step, ac_step, pred, recon[plane], y, x)
    return TRUNCATED if state[OVERRUN] > 0 else OK
