"""Decoding received audio where it arrives, instead of in aiortc's decoder thread.

aiortc hands every encoded frame of a receiver to a thread of its own, which decodes it and hands the
result back to the event loop with ``run_coroutine_threadsafe``: two thread switches, a task and a wake-up
of the loop per 20 ms packet, for an Opus decode that takes a few microseconds. Profiling the engine put
those hand-offs among the largest costs of a participant. :func:`decode_audio_inline` swaps an audio
receiver's decoder queue for :class:`InlineDecoding`, which decodes on the loop as the jitter buffer
releases each frame; aiortc's thread still starts, waits on it without work, and ends the track when the
receiver stops, as before. Receivers of another aiortc layout are left alone (threaded, as aiortc made them).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import av
from aiortc import RTCPeerConnection
from aiortc.codecs import get_decoder

log = logging.getLogger(__name__)

_QUEUE = "_RTCRtpReceiver__decoder_queue"
_STARTED = "_RTCRtpReceiver__started"


class InlineDecoding:
    """Stands in for a receiver's decoder queue: ``put`` decodes now and queues the frames on its track."""

    def __init__(self, track_queue: Any) -> None:
        self._frames = track_queue
        self._decoder: Any = None
        self._codec_name: str | None = None
        self._stopped = threading.Event()
        self.decoded = 0

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:  # the receiver stops: release aiortc's waiting thread, which ends the track
            self._stopped.set()
            return
        codec, encoded = task
        if codec.name != self._codec_name:
            self._decoder, self._codec_name = get_decoder(codec), codec.name
        try:
            frames = self._decoder.decode(encoded)
        except av.FFmpegError as error:
            log.warning("could not decode a %s frame: %s", codec.name, error)
            return
        for frame in frames:
            self._frames.put_nowait(frame)
            self.decoded += 1

    def get(self) -> None:
        """What aiortc's decoder thread calls: nothing to do until the receiver stops."""
        self._stopped.wait()


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
