"""A listener's mix is Opus-encoded by the mixer itself: mono, one packet per 20 ms, at the mix's level."""

import math

import av
import numpy as np
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame

from pipeline.calls.client import tone_frame
from pipeline.webrtc.audio import MonoOpusEncoder
from pipeline.webrtc.hub import CHUNK_SAMPLES


def test_the_mix_encodes_to_one_gapless_packet_a_chunk_at_its_own_level() -> None:
    encoder, decoder = MonoOpusEncoder(), OpusDecoder()
    chunks = [tone_frame(index).to_ndarray().reshape(-1).astype(np.int16) for index in range(50)]  # 0.3 of full
    packets = [encoder.encode(chunk, index * CHUNK_SAMPLES) for index, chunk in enumerate(chunks)]

    assert all(packet is not None for packet in packets)
    assert [packet.pts for packet in packets if packet is not None] == [i * CHUNK_SAMPLES for i in range(50)]
    decoded = [
        frame
        for packet in packets
        if packet is not None
        for frame in decoder.decode(JitterFrame(bytes(packet), packet.pts or 0))
    ]
    samples = np.concatenate(
        [f.to_ndarray().reshape(-1, 2)[:, 0] for f in decoded if isinstance(f, av.AudioFrame)][5:]
    ).astype(float)
    level_dbfs = 20 * math.log10(np.sqrt(np.mean(samples**2)) / 32768)
    assert abs(level_dbfs - 20 * math.log10(0.3 / math.sqrt(2))) < 1.0  # a sine at 0.3: -13.5 dBFS, not 3 dB down
