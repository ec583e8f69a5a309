"""Fuzzing the decoder: truncated, corrupted and random bitstreams get a clear error, never a crash or a stray read."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.aic.bitstream import BitstreamError
from pipeline.aic.codec import AICDecoder, DecodedAudio, DecodedVideo
from tests.pipeline.aic.corpus import decode_after, reseal, valid_stream
from tests.support.paths import REPO

FRAMES = valid_stream()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode(data: bytes) -> None:
    try:
        decoded = AICDecoder().decompress(data)
    except BitstreamError as error:
        assert str(error)
        return
    assert isinstance(decoded, DecodedVideo | DecodedAudio)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_rejected_cleanly(data: bytes) -> None:
    _decode(data)


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(FRAMES))
def test_random_payloads_behind_a_valid_header_are_rejected_or_decoded(payload: bytes, frame: bytes) -> None:
    header = frame[:8] + frame[16:40]  # the kind-specific header of a real frame, then garbage
    _decode(reseal(frame, header[8:] + payload))


@FUZZ
@given(st.sampled_from(range(len(FRAMES))), st.data())
def test_truncated_frames_are_rejected(index: int, data: st.DataObject) -> None:
    frame = FRAMES[index]
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(BitstreamError):
        AICDecoder().decompress(frame[:cut])
    body = frame[16:]
    decode_after(FRAMES, index, reseal(frame, body[: data.draw(st.integers(0, len(body) - 1))]))


@FUZZ
@given(
    st.sampled_from(range(len(FRAMES))), st.lists(st.tuples(st.integers(0), st.integers(0, 7)), min_size=1, max_size=8)
)
def test_bit_flips_are_caught_by_the_crc_and_survived_without_it(index: int, flips: list[tuple[int, int]]) -> None:
    frame = bytearray(FRAMES[index])
    body = bytearray(frame[16:])
    for position, bit in flips:
        body[position % len(body)] ^= 1 << bit
    if bytes(body) != bytes(frame[16:]):
        with pytest.raises(BitstreamError, match=r"CRC|truncated|header"):
            AICDecoder().decompress(bytes(frame[:16]) + bytes(body))
    decode_after(FRAMES, index, reseal(bytes(frame), bytes(body)))


@pytest.mark.parametrize("size", [(0, 0), (100000, 100000), (65535, 65535), (8192, 8192), (15, 480), (641, 480)])
def test_absurd_picture_sizes_are_refused_before_any_allocation(size: tuple[int, int]) -> None:
    frame = FRAMES[0]
    body = bytearray(frame[16:])
    struct.pack_into("<HH", body, 0, min(size[0], 65535), min(size[1], 65535))
    tracemalloc.start()
    with pytest.raises(BitstreamError, match=r"size|even"):
        AICDecoder().decompress(reseal(frame, bytes(body)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1 << 20


def test_the_largest_allowed_picture_with_no_data_fails_fast_and_bounded() -> None:
    frame = FRAMES[0]
    body = bytearray(frame[16:])
    struct.pack_into("<HH", body, 0, 8192, 4320)
    with pytest.raises(BitstreamError, match=r"truncated|corrupt"):
        AICDecoder().decompress(reseal(frame, bytes(body[:24])))


def test_an_inter_frame_without_its_reference_is_refused() -> None:
    with pytest.raises(BitstreamError, match="refers to frame 0, which this decoder does not hold"):
        AICDecoder().decompress(FRAMES[1])


def test_audio_headers_with_impossible_shapes_are_refused() -> None:
    frame = FRAMES[3]
    for rate, channels, samples in [
        (0, 2, 480),
        (48000, 0, 480),
        (48000, 2, 0),
        (48000, 200, 480),
        (48000, 2, 1 << 30),
    ]:
        body = struct.pack("<IBI", rate, channels, samples) + frame[16 + 9 :]
        with pytest.raises(BitstreamError):
            AICDecoder().decompress(reseal(frame, body))


def test_crc_and_header_errors_name_the_problem() -> None:
    frame = FRAMES[0]
    with pytest.raises(BitstreamError, match="bad magic"):
        AICDecoder().decompress(b"XYZ" + frame[3:])
    with pytest.raises(BitstreamError, match="version 9"):
        AICDecoder().decompress(frame[:3] + b"\x09" + frame[4:])
    with pytest.raises(BitstreamError, match="unknown frame kind"):
        AICDecoder().decompress(frame[:4] + b"\x07" + frame[5:])
    corrupt = frame[:-1] + bytes([frame[-1] ^ 0xFF])
    with pytest.raises(BitstreamError, match="CRC-32 mismatch"):
        AICDecoder().decompress(corrupt)
    assert zlib.crc32(frame[16:]) == struct.unpack_from("<I", frame, 12)[0]


@pytest.mark.slow
def test_the_damaged_corpus_never_reads_outside_a_buffer_under_numba_boundscheck(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    done = subprocess.run(
        [sys.executable, "-m", "tests.pipeline.aic.corpus", "11"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "without leaving its buffers" in done.stdout


def test_frames_decode_to_what_was_sent() -> None:
    decoder = AICDecoder()
    shapes = [np.asarray(getattr(decoder.decompress(frame), "samples", np.zeros(1))).shape for frame in FRAMES]
    assert shapes[-1] == (480, 2)
