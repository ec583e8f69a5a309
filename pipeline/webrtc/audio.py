"""A room's audio: each publisher's track decoded once, fanned out, and mixed per listener.

Every published audio track is read by one :class:`AudioFanout` task that
converts aiortc's decoded frames to 20 ms chunks of 48 kHz mono ``int16`` and
hands each chunk to its subscribers: the mixers of the other participants and
the ``webrtc_source`` stages of the room's pipelines. An :class:`AudioMixer` is
an aiortc track that sums, every 20 ms, one chunk from each of its sources
(everyone but the listener), so a participant hears the room on one track and
no renegotiation is needed when people come and go.

A mixer hands aiortc's sender Opus packets it encoded itself (:class:`MonoOpusEncoder`), not frames: the
sender would convert each mono frame to stereo through a resampler and encode it on a worker thread, two
thread hand-offs per listener per 20 ms. Measured (CPU time per 20 ms frame): 300 µs that way, 90 µs here.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet

from engine.frames import now_ns
from pipeline.webrtc.hub import CHUNK_SAMPLES, MIX_RATE, Chunk
from pipeline.webrtc.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHUNK_S = CHUNK_SAMPLES / MIX_RATE
MAX_BACKLOG_CHUNKS = 5
"""A source more than 100 ms ahead of the mixer loses its oldest audio (clock drift, bursts)."""

ChunkSink = Callable[[Chunk | None], None]
"""Receives each chunk, then ``None`` once when the track ends."""
OPUS_BITRATE = 96_000
"""What aiortc's own Opus encoder sends (for stereo); ample for the room's mono mix."""
TIME_BASE = fractions.Fraction(1, MIX_RATE)


class MonoOpusEncoder:
    """The room's 20 ms mono chunks as Opus packets, encoded on the event loop."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("libopus", "w")
        self._codec.bit_rate = OPUS_BITRATE
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = MIX_RATE
        self._codec.time_base = TIME_BASE
        self._codec.options = {"application": "voip"}
        self._ready: deque[Packet[Any]] = deque()
        self._packets = 0

    def encode(self, samples: npt.NDArray[np.int16], pts: int) -> Packet[Any] | None:
        """The next packet (``None`` while the encoder fills its look-ahead), stamped on a gapless clock."""
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = MIX_RATE
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._ready.extend(self._codec.encode(frame))
        if not self._ready:
            return None
        packet = self._ready.popleft()
        packet.pts = self._packets * CHUNK_SAMPLES  # RTP time goes on by 20 ms a packet, whatever libopus stamped
        packet.time_base = TIME_BASE
        self._packets += 1
        return packet


class AudioFanout:
    """Reads one remote audio track and gives every subscriber each 20 ms chunk."""

    def __init__(self, identity: str, track: MediaStreamTrack) -> None:
        self.identity = identity
        self.track = track
        self.subscribers: dict[int, ChunkSink] = {}
        self.chunks_in = 0
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=MIX_RATE)
        self._pending = np.zeros(0, dtype=np.int16)
        self._task: asyncio.Task[None] | None = None
        self._next_key = 0
        self.ended = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read(), name=f"audio-fanout:{self.identity}")

    def subscribe(self, sink: ChunkSink) -> Callable[[], None]:
        """Add ``sink``; returns the function that removes it."""
        key = self._next_key
        self._next_key += 1
        self.subscribers[key] = sink
        return lambda: self.subscribers.pop(key, None) and None

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                if isinstance(frame, av.AudioFrame):
                    self._push(frame, now_ns())
        except MediaStreamError:
            pass  # the publisher's track ended
        finally:
            self.ended.set()
            for sink in list(self.subscribers.values()):
                sink(None)

    def _push(self, frame: av.AudioFrame, arrived_ns: int) -> None:
        mono = self._mono(frame)
        # 20 ms Opus frames are whole chunks: only other frame sizes need the pending buffer
        self._pending = mono if not self._pending.shape[0] else np.concatenate((self._pending, mono))
        while self._pending.shape[0] >= CHUNK_SAMPLES:
            chunk, self._pending = self._pending[:CHUNK_SAMPLES], self._pending[CHUNK_SAMPLES:]
            self.chunks_in += 1
            for sink in list(self.subscribers.values()):
                sink((chunk, arrived_ns))

    def _mono(self, frame: av.AudioFrame) -> npt.NDArray[np.int16]:
        """48 kHz mono ``int16``: a numpy down-mix for what Opus decoders give, PyAV's resampler otherwise."""
        if frame.format.name == "s16" and frame.sample_rate == MIX_RATE:
            channels = frame.layout.nb_channels
            interleaved = frame.to_ndarray().astype(np.int16, copy=False).reshape(-1, channels)
            if channels == 1:
                return interleaved[:, 0]
            total = interleaved[:, 0].astype(np.int32)
            for channel in range(1, channels):  # column adds: far cheaper than a reduction over axis 1
                total += interleaved[:, channel]
            mixed: npt.NDArray[np.int16] = (total // channels).astype(np.int16)
            return mixed
        converted = [part.to_ndarray().reshape(-1) for part in self._resampler.resample(frame)]
        return np.concatenate(converted) if converted else np.zeros(0, dtype=np.int16)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.subscribers.clear()


class AudioMixer(MediaStreamTrack):
    """An audio track that is the sum of its sources, paced at 20 ms per frame."""

    kind = "audio"

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self._buffers: dict[str, deque[Chunk]] = {}
        self._unsubscribe: dict[str, Callable[[], None]] = {}
        self._start: float | None = None
        self._sent = 0
        self._encoder: MonoOpusEncoder | None = None

    @property
    def sources(self) -> list[str]:
        return list(self._buffers)

    def add_source(self, fanout: AudioFanout) -> None:
        if fanout.identity in self._buffers:
            return
        buffer: deque[Chunk] = deque(maxlen=MAX_BACKLOG_CHUNKS)
        self._buffers[fanout.identity] = buffer
        self._unsubscribe[fanout.identity] = fanout.subscribe(
            lambda chunk: None if chunk is None else buffer.append(chunk)
        )

    def remove_source(self, identity: str) -> None:
        self._buffers.pop(identity, None)
        unsubscribe = self._unsubscribe.pop(identity, None)
        if unsubscribe is not None:
            unsubscribe()

    def mix_next(self) -> Chunk:
        """One chunk from every source with audio waiting, summed with saturation."""
        total = np.zeros(CHUNK_SAMPLES, dtype=np.int32)
        oldest = 0
        for buffer in self._buffers.values():
            if buffer:
                samples, arrived_ns = buffer.popleft()
                total += samples
                oldest = arrived_ns if oldest == 0 else min(oldest, arrived_ns)
        mixed = np.clip(total, -32768, 32767).astype(np.int16)
        return mixed, oldest or now_ns()

    async def next_chunk(self) -> Chunk:
        """The next 20 ms of the mix, at the pace of the wall clock."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._sent * CHUNK_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._sent += 1
        return self.mix_next()

    async def recv(self) -> Packet[Any]:
        """The next 20 ms of the mix, Opus-encoded (aiortc's sender only packs it into RTP)."""
        if self._encoder is None:
            self._encoder = MonoOpusEncoder()
        while True:
            samples, _ = await self.next_chunk()
            packet = self._encoder.encode(samples, (self._sent - 1) * CHUNK_SAMPLES)
            if packet is not None:
                return packet

    def stop(self) -> None:
        for identity in list(self._buffers):
            self.remove_source(identity)
        super().stop()
