"""Every numba kernel against its plain numpy (or Python) reference, on real photos where pictures matter."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.aic_media import photo, ssim_y
from kernels import colour, entropy, lossless, metrics, motion, reconstruct, transform

RNG = np.random.default_rng(20261127)


@pytest.fixture(scope="module")
def astronaut_luma() -> np.ndarray:
    return photo("astronaut")[0]


def test_range_coder_matches_the_reference_byte_for_byte_and_decodes() -> None:
    bits = (RNG.random(20000) < 0.15).astype(np.uint8)
    contexts = RNG.integers(0, 8, bits.size).astype(np.int32)
    coded = entropy.encode_bits(bits, contexts, 8)
    assert bytes(coded) == entropy.reference_encode_bits(bits.tolist(), contexts.tolist(), 8)
    assert np.array_equal(entropy.decode_bits(coded, contexts, 8), bits)
    assert coded.size < bits.size / 8 * 0.8  # skewed decisions really compress


def test_signed_values_round_trip_through_the_coder() -> None:
    from numba import njit

    @njit
    def code(values: np.ndarray) -> np.ndarray:
        out = np.zeros(values.size * 16 + 64, dtype=np.uint8)
        state = entropy.new_encoder_state()
        probs = entropy.new_probs(entropy.SIGNED_CONTEXTS)
        for value in values:
            entropy.encode_signed(state, out, probs, 0, value)
        return out[: entropy.encoder_finish(state, out)]

    @njit
    def decode(data: np.ndarray, count: int) -> np.ndarray:
        state = entropy.decoder_init(data)
        probs = entropy.new_probs(entropy.SIGNED_CONTEXTS)
        values = np.zeros(count, dtype=np.int64)
        for i in range(count):
            values[i] = entropy.decode_signed(state, data, probs, 0)[0]
        return values

    values = np.concatenate([RNG.integers(-5, 6, 500), RNG.integers(-(1 << 20), 1 << 20, 50)]).astype(np.int64)
    assert np.array_equal(decode(code(values), values.size), values)


def test_dct_matches_numpy_and_inverts(astronaut_luma: np.ndarray) -> None:
    plane = astronaut_luma[:128, :128].astype(np.float32) - 128
    coeffs = transform.forward_blocks(plane)
    np.testing.assert_allclose(coeffs, transform.reference_forward_blocks(plane), atol=2e-3)
    np.testing.assert_allclose(transform.inverse_blocks(coeffs), transform.reference_inverse_blocks(coeffs), atol=2e-3)
    np.testing.assert_allclose(transform.inverse_blocks(coeffs), plane, atol=2e-3)


def test_adaptive_quantisation_matches_numpy(astronaut_luma: np.ndarray) -> None:
    coeffs = transform.forward_blocks(astronaut_luma[:128, :128].astype(np.float32) - 128)
    steps = (RNG.random(coeffs.shape[:2]) * 30 + 1).astype(np.float32)
    for rounding in (1 / 3, 1 / 6):
        expected = transform.reference_quantise_blocks(coeffs, steps, 9.0, rounding)
        assert np.array_equal(transform.quantise_blocks(coeffs, steps, 9.0, rounding), expected)


def test_colour_conversion_matches_numpy() -> None:
    from skimage import data

    rgb = np.ascontiguousarray(data.coffee()[:200, :300])  # type: ignore[no-untyped-call]
    for ours, reference in zip(colour.rgb_to_yuv420(rgb), colour.reference_rgb_to_yuv420(rgb), strict=True):
        assert np.abs(ours.astype(int) - reference).max() <= 1
    planes = colour.rgb_to_yuv420(rgb)
    back = colour.yuv420_to_rgb(*planes)
    assert np.abs(back.astype(int) - colour.reference_yuv420_to_rgb(*planes)).max() <= 1
    assert np.abs(back.astype(int) - rgb).mean() < 6  # chroma subsampling loses a little


def test_ssim_and_psnr_follow_the_definitions(astronaut_luma: np.ndarray) -> None:
    noisy = np.clip(astronaut_luma + RNG.normal(0, 12, astronaut_luma.shape), 0, 255).astype(np.uint8)
    ours = metrics.ssim(astronaut_luma, noisy)
    assert ours == pytest.approx(ssim_y(astronaut_luma, noisy), abs=1e-9)
    assert ours == pytest.approx(metrics.reference_ssim(astronaut_luma, noisy), abs=1e-9)
    assert metrics.sum_squared_error(astronaut_luma, noisy) == metrics.reference_sum_squared_error(
        astronaut_luma, noisy
    )
    mse = np.mean((astronaut_luma.astype(float) - noisy) ** 2)
    assert metrics.psnr(astronaut_luma, noisy) == pytest.approx(10 * np.log10(255**2 / mse))
    assert metrics.psnr(noisy, noisy) == metrics.PSNR_IDENTICAL


def test_motion_search_matches_numpy_and_finds_a_real_shift(astronaut_luma: np.ndarray) -> None:
    reference = np.ascontiguousarray(astronaut_luma[100:292, 100:356])
    current = np.ascontiguousarray(astronaut_luma[103:295, 98:354])  # content moved up 3, left... by (3, -2)
    none = np.zeros((current.shape[0] // 16, current.shape[1] // 16, 2), dtype=np.int32)
    vectors, sads = motion.motion_search(current, reference, 16, none)
    expected_vectors, expected_sads = motion.reference_motion_search(current, reference, 16, none)
    assert np.array_equal(vectors, expected_vectors)
    assert np.array_equal(sads, expected_sads)
    inner = vectors[1:-1, 1:-1].reshape(-1, 2)
    assert (np.all(inner == (6, -4), axis=1)).mean() > 0.8  # half pixels
    steady = np.full_like(none, (5, -3))  # last picture's motion as a candidate: same answer, also from afar
    assert np.array_equal(motion.motion_search(current, reference, 16, steady)[0],
                          motion.reference_motion_search(current, reference, 16, steady)[0])  # fmt: skip


def test_block_activity_matches_numpy(astronaut_luma: np.ndarray) -> None:
    plane = np.ascontiguousarray(astronaut_luma[:256, :256])
    np.testing.assert_allclose(motion.block_log_variance(plane), motion.reference_block_log_variance(plane), rtol=1e-5)


def test_reconstruction_kernels_match_numpy(astronaut_luma: np.ndarray) -> None:
    prediction = np.ascontiguousarray(astronaut_luma[:128, :128])
    residual = RNG.normal(0, 40, prediction.shape).astype(np.float32)
    assert np.array_equal(
        reconstruct.reconstruct(prediction, residual), reconstruct.reference_reconstruct(prediction, residual)
    )
    vectors = RNG.integers(-20, 21, (8, 8, 2)).astype(np.int32)
    assert np.array_equal(
        reconstruct.motion_compensate(prediction, vectors),
        reconstruct.reference_motion_compensate(prediction, vectors),
    )


def test_lossless_kernels_match_numpy_and_round_trip(astronaut_luma: np.ndarray) -> None:
    plane = np.ascontiguousarray(astronaut_luma[:96, :160])
    residuals = lossless.med_residuals(plane)
    assert np.array_equal(residuals, lossless.reference_med_residuals(plane))
    out = np.empty(residuals.size * 7 + 16, dtype=np.uint8)
    size = lossless.rice_encode(residuals, out)
    assert bytes(out[:size]) == lossless.reference_rice_encode(residuals)
    decoded, complete = lossless.rice_decode(out[:size], residuals.size)
    assert complete
    assert np.array_equal(lossless.med_reconstruct(decoded, *plane.shape), plane)
    _, complete = lossless.rice_decode(out[: size // 2], residuals.size)
    assert not complete


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_fixed_linear_prediction_matches_numpy_and_inverts(order: int) -> None:
    samples = (np.sin(np.arange(2000) / 7.0) * 20000 + RNG.normal(0, 30, 2000)).astype(np.int64)
    residuals = lossless.fixed_residuals(samples, order)
    assert np.array_equal(residuals, lossless.reference_fixed_residuals(samples, order))
    assert np.array_equal(lossless.fixed_restore(residuals, order), samples)
