"""Decoding received media only as it is needed: audio where it arrives, video only while someone watches.

aiortc hands every encoded frame of a receiver to a thread of its own, which decodes it and hands the
result back to the event loop with ``run_coroutine_threadsafe``: two thread switches, a task and a wake-up
of the loop per 20 ms packet, for an Opus decode that takes a few microseconds. Profiling the engine put
those hand-offs among the largest costs of a participant. :func:`decode_audio_inline` swaps an audio
receiver's decoder queue for :class:`InlineDecoding`, which decodes on the loop as the jitter buffer
releases each frame; aiortc's thread still starts, waits on it without work, and ends the track when the
receiver stops, as before. Receivers of another aiortc layout are left alone (threaded, as aiortc made them).

A camera costs far more: a VP8 picture takes milliseconds to decode. :func:`gate_video_decoding` puts
:class:`GatedVideoDecoding` in front of a video receiver's decoder thread: while nobody watches (no viewer's
slot, no pipeline), encoded pictures are dropped undecoded; when someone starts watching, decoding resumes
at the next key frame, which it asks the sender for (a PLI).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCPeerConnection
from aiortc.codecs import get_decoder
from aiortc.codecs.base import Decoder
from aiortc.codecs.opus import OpusDecoder

log = logging.getLogger(__name__)

_QUEUE = "_RTCRtpReceiver__decoder_queue"
_STARTED = "_RTCRtpReceiver__started"
_ACTIVE_SSRC = "_RTCRtpReceiver__active_ssrc"
KEYFRAME_ASK_INTERVAL_S = 0.5


class InlineDecoding:
    """Stands in for a receiver's decoder queue: ``put`` decodes now and queues the frames on its track."""

    def __init__(self, track_queue: Any) -> None:
        self._frames = track_queue
        self._decoder: Any = None
        self._codec_name: str | None = None
        self._stopped = threading.Event()
        self.decoded = 0
        self.channels = 0
        """Of the last frame decoded."""

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:  # the receiver stops: release aiortc's waiting thread, which ends the track
            self._stopped.set()
            return
        codec, encoded = task
        if codec.name != self._codec_name:
            self._decoder, self._codec_name = _audio_decoder(codec), codec.name
        try:
            frames = self._decoder.decode(encoded)
        except av.FFmpegError as error:
            log.warning("could not decode a %s frame: %s", codec.name, error)
            return
        for frame in frames:
            self._frames.put_nowait(frame)
            self.decoded += 1
            self.channels = frame.layout.nb_channels

    def get(self) -> None:
        """What aiortc's decoder thread calls: nothing to do until the receiver stops."""
        self._stopped.wait()


def _audio_decoder(codec: Any) -> Decoder:
    """aiortc's decoder for ``codec``; Opus decodes to mono, which the room's audio is (libopus mixes the
    channels down as it decodes: a third cheaper than stereo output mixed down in numpy afterwards)."""
    decoder = get_decoder(codec)
    if isinstance(decoder, OpusDecoder):
        decoder.codec.layout = "mono"
    return decoder


def decode_audio_inline(pc: RTCPeerConnection) -> int:
    """Decode each audio receiver of ``pc`` on the loop (call before its media starts); returns how many."""
    swapped = 0
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        track = getattr(receiver, "track", None)  # none where the client only receives
        if transceiver.kind != "audio" or track is None or getattr(receiver, _STARTED, True):
            continue
        if not hasattr(receiver, _QUEUE):
            continue
        setattr(receiver, _QUEUE, InlineDecoding(track._queue))
        swapped += 1
    return swapped


def _is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: the frame tag's lowest bit is 0 for a key frame."""
    return bool(data) and not data[0] & 0x01


class GatedVideoDecoding:
    """Stands in for a video receiver's decoder queue: passes pictures to aiortc's decoder thread only while
    ``watched()``, from a key frame on. Codecs other than VP8 are always passed (their key frames are not
    recognised here)."""

    def __init__(self, receiver: Any, watched: Callable[[], bool]) -> None:
        self._inner: queue.Queue[Any] = queue.Queue()
        self._receiver = receiver
        self._watched = watched
        self._need_keyframe = True
        self._asked_at = 0.0
        self._asks: set[asyncio.Task[Any]] = set()
        self.skipped = 0
        self.passed = 0

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._inner.put(None)
            return
        codec, encoded = task
        if codec.name == "VP8" and not self._wanted(encoded.data):
            self.skipped += 1
            return
        self.passed += 1
        self._inner.put(task)

    def _wanted(self, data: bytes) -> bool:
        if not self._watched():
            self._need_keyframe = True
            return False
        if self._need_keyframe and not _is_vp8_keyframe(data):
            self._ask_for_keyframe()
            return False
        self._need_keyframe = False
        return True

    def _ask_for_keyframe(self) -> None:
        now = time.monotonic()
        if now - self._asked_at < KEYFRAME_ASK_INTERVAL_S:
            return
        self._asked_at = now
        for ssrc in list(getattr(self._receiver, _ACTIVE_SSRC, {})):
            ask = asyncio.get_running_loop().create_task(self._receiver._send_rtcp_pli(ssrc))
            self._asks.add(ask)
            ask.add_done_callback(self._asks.discard)

    def get(self) -> Any:
        return self._inner.get()


def gate_video_decoding(pc: RTCPeerConnection, watched: Callable[[Any], bool]) -> int:
    """Decode each video receiver's pictures only while ``watched(its track)``; returns how many were gated."""
    gated = 0
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        track = getattr(receiver, "track", None)
        if transceiver.kind != "video" or track is None or getattr(receiver, _STARTED, True):
            continue
        if not hasattr(receiver, _QUEUE):
            continue
        setattr(receiver, _QUEUE, GatedVideoDecoding(receiver, functools.partial(watched, track)))
        gated += 1
    return gated
