"""The load generator of ``bench calls``: a tone encoded once and replayed, paced by one clock."""

import asyncio
import contextlib
from typing import cast

import av
import numpy as np
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

from benchmarks.calls_load import LOOP_FRAMES, PacingClock, ReplayedTone, encoded_tone
from pipeline.calls.client import TONE_RATE, TONE_SAMPLES


def test_the_replayed_packets_decode_to_the_tone() -> None:
    payloads = encoded_tone()
    assert len(payloads) == LOOP_FRAMES
    decoder = OpusDecoder()
    frames = [
        frame
        for loop in range(2)  # twice round: the loop's seam is inside
        for index, payload in enumerate(payloads)
        for frame in decoder.decode(JitterFrame(payload, (loop * LOOP_FRAMES + index) * TONE_SAMPLES))
    ]
    assert all(isinstance(frame, av.AudioFrame) for frame in frames)
    left = np.concatenate([cast(av.AudioFrame, f).to_ndarray().reshape(-1, 2)[:, 0] for f in frames]).astype(float)
    assert left.shape[0] == 2 * LOOP_FRAMES * TONE_SAMPLES
    spectrum = np.abs(np.fft.rfft(left[TONE_SAMPLES:]))  # past the decoder's first frame
    peak_hz = np.argmax(spectrum) * TONE_RATE / (left.shape[0] - TONE_SAMPLES)
    assert abs(peak_hz - 440) < 2
    assert np.sqrt(np.mean(left**2)) > 0.1 * 32767  # the tone (0.3 of full scale), not silence


async def test_one_clock_paces_every_publisher_and_a_hang_up_stops_only_its_own() -> None:
    clock = PacingClock()
    clock.start()
    tones = [ReplayedTone(clock, encoded_tone()) for _ in range(8)]

    async def send(tone: ReplayedTone) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                packet = await tone.recv()
                assert packet.pts == (tone.sent - 1) * TONE_SAMPLES

    senders = [asyncio.create_task(send(tone)) for tone in tones]
    try:
        await asyncio.sleep(0.2)
        senders[0].cancel()  # hangs up while it waits on the shared tick
        await asyncio.gather(senders[0], return_exceptions=True)
        hung_up_at = tones[0].sent
        await asyncio.sleep(0.3)
        assert tones[0].sent == hung_up_at
        for tone in tones[1:]:  # each sends one frame a tick, however many share the clock
            assert clock.ticks - 2 <= tone.sent <= clock.ticks + 1
        assert clock.ticks >= 15  # 0.5 s at 50 ticks a second, with room for a loaded machine
    finally:
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        await clock.stop()
