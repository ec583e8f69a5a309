"""A scripted call participant (aiortc): joins over WHIP, WHEP or the room API.

Used by ``auralink demo``, ``auralink bench calls`` and the tests. It publishes
an audio track (a tone or a media file), receives the room's audio and
measures its energy, and keeps every data-channel message.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame
from av.packet import Packet

TONE_RATE = 48000
TONE_SAMPLES = 960
WATCH_INTERVAL_S = 0.1
RECONNECT_HEADER = "X-AuraLink-Reconnect"
"""Names the session a new offer continues (the engine reports the join as a reconnect)."""


class ToneTrack(MediaStreamTrack):
    """A paced sine tone (20 ms frames), so a listener can tell real audio from silence."""

    kind = "audio"

    def __init__(self, frequency_hz: float = 440.0, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency_hz = frequency_hz
        self.amplitude = amplitude
        self._sent = 0
        self._start: float | None = None

    @property
    def sent(self) -> int:
        """Frames produced so far."""
        return self._sent

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._sent * TONE_SAMPLES / TONE_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = tone_frame(self._sent, self.frequency_hz, self.amplitude)
        self._sent += 1
        return frame


def tone_frame(index: int, frequency_hz: float = 440.0, amplitude: float = 0.3) -> av.AudioFrame:
    """The ``index``-th 20 ms frame of a sine tone (48 kHz mono ``s16``)."""
    t = (np.arange(TONE_SAMPLES) + index * TONE_SAMPLES) / TONE_RATE
    samples = (amplitude * 32767 * np.sin(2 * math.pi * frequency_hz * t)).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = TONE_RATE
    frame.pts = index * TONE_SAMPLES
    frame.time_base = fractions.Fraction(1, TONE_RATE)
    return frame


class _ConnectionTrack(MediaStreamTrack):
    """One connection's view of a track that outlives it: aiortc's sender stops the track it sends when its
    connection closes, which would end a file's playback (or a camera) at the first reconnect."""

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source

    async def recv(self) -> Frame | Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._source.recv()


@dataclass
class ReceivedAudio:
    """What arrived on the room's audio track."""

    frames: int = 0
    loud_frames: int = 0
    """Frames whose RMS is above -40 dBFS."""
    peak_rms_dbfs: float = -120.0
    video_frames: int = 0
    """Pictures received on any video slot."""


@dataclass(frozen=True)
class _OfferShape:
    """What a client offers, kept so that a reconnect offers the same."""

    path: str
    track: MediaStreamTrack | None
    receive_audio: bool
    data_channel: bool
    video_slots: int
    camera: MediaStreamTrack | None


@dataclass
class CallClient:
    """One participant. ``await join(...)``, then watch ``messages`` and ``audio``; ``await leave()``."""

    base_url: str
    token: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    audio: ReceivedAudio = field(default_factory=ReceivedAudio)
    location: str | None = None
    on_message: Callable[[dict[str, Any]], None] | None = None
    pc: RTCPeerConnection = field(default_factory=lambda: RTCPeerConnection(RTCConfiguration(iceServers=[])))
    reconnect: bool = False
    """Offer again at the same URL when the call drops (through a cluster's front: on another worker)."""
    stall_s: float = 1.5
    """With ``reconnect``: the room's audio silent on the wire this long means the call dropped."""
    reconnects: int = 0
    """How many times the call was offered again and answered."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _player: MediaPlayer | None = None
    _offer_shape: _OfferShape | None = None
    _watchdog: asyncio.Task[None] | None = None
    _last_audio: float = 0.0

    async def join(
        self,
        path: str,
        publish: MediaStreamTrack | str | None = None,
        receive_audio: bool = True,
        data_channel: bool = True,
        video_slots: int = 0,
        camera: MediaStreamTrack | None = None,
    ) -> httpx.Response:
        """Offer at ``path`` (``/rooms/R/join``, ``/whip/R``, ``/whep/R``); ``publish`` is a track or a file.

        ``camera`` is published on the first video transceiver, which also receives a slot when
        ``video_slots`` > 0; each further slot is a receive-only video transceiver. With ``reconnect``,
        a dropped call is offered again at the same ``path`` until it is back (see :meth:`_keep_up`).
        """
        self._offer_shape = _OfferShape(path, self._track(publish), receive_audio, data_channel, video_slots, camera)
        response = await self._offer()
        if response.status_code == 201 and self.reconnect and self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._keep_up())
        return response

    async def _offer(self, reconnect_of: str | None = None) -> httpx.Response:
        shape = self._offer_shape
        assert shape is not None
        if shape.track is not None:
            self.pc.addTransceiver(self._for_connection(shape.track), "sendrecv" if shape.receive_audio else "sendonly")
        elif shape.receive_audio:
            self.pc.addTransceiver("audio", "recvonly")
        video_slots = shape.video_slots
        if shape.camera is not None:
            self.pc.addTransceiver(self._for_connection(shape.camera), "sendrecv" if video_slots else "sendonly")
            video_slots -= 1
        for _ in range(max(0, video_slots)):
            self.pc.addTransceiver("video", "recvonly")
        if shape.data_channel:
            channel = self.pc.createDataChannel("auralink")
            channel.on("message", self._message)
        self.pc.on("track", self._track_arrived)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {self.token}"}
        if reconnect_of:
            headers[RECONNECT_HEADER] = reconnect_of
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            response = await http.post(shape.path, content=self.pc.localDescription.sdp, headers=headers)
            if response.status_code in (307, 308) and "location" in response.headers:
                # a cluster's front may send a WHIP offer on to the room's worker (RFC 9725): the offer and its
                # token follow (httpx's own redirects drop Authorization on the way to another origin)
                target = response.url.join(response.headers["location"])
                response = await http.post(target, content=self.pc.localDescription.sdp, headers=headers)
        if response.status_code == 201:
            self.location = str(response.url.join(response.headers["location"]))  # on the worker after a 307
            await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
            self._last_audio = time.monotonic()
        return response

    def _for_connection(self, track: MediaStreamTrack) -> MediaStreamTrack:
        """A reconnecting client sends its tracks through a wrapper per connection, so they go on after it."""
        return _ConnectionTrack(track) if self.reconnect else track

    def _dropped(self) -> bool:
        if self.pc.connectionState in ("failed", "closed", "disconnected"):
            return True
        shape = self._offer_shape
        hears = shape is not None and shape.receive_audio and self.pc.connectionState == "connected"
        return hears and time.monotonic() - self._last_audio > self.stall_s

    async def _keep_up(self) -> None:
        """Watch the call; when it drops (its connection fails, or the room's audio stops for ``stall_s``:
        the mixer sends 50 frames a second, silence included), offer again until the call is back."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if not self._dropped():
                continue
            previous = (self.location or "").rsplit("/", 1)[-1] or "unknown"
            backoff = 0.1
            while True:
                await self._hang_up()
                self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                try:
                    response = await self._offer(reconnect_of=previous)
                except httpx.HTTPError:
                    response = None
                if response is not None and response.status_code == 201:
                    self.reconnects += 1
                    break
                await asyncio.sleep(backoff)
                backoff = min(1.0, backoff * 2)

    async def _hang_up(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.pc.close()

    def _track(self, publish: MediaStreamTrack | str | None) -> MediaStreamTrack | None:
        if isinstance(publish, str):
            self._player = MediaPlayer(publish)
            return self._player.audio
        return publish

    async def connected(self, timeout_s: float = 20.0) -> None:
        """Wait until ICE and DTLS are up."""
        deadline = time.monotonic() + timeout_s
        while self.pc.connectionState != "connected":
            if time.monotonic() > deadline or self.pc.connectionState in ("failed", "closed"):
                raise TimeoutError(f"not connected (state {self.pc.connectionState})")
            await asyncio.sleep(0.02)

    def _message(self, text: str | bytes) -> None:
        with contextlib.suppress(ValueError):
            message = json.loads(text)
            self.messages.append(message)
            if self.on_message is not None:
                self.on_message(message)

    def _track_arrived(self, track: MediaStreamTrack) -> None:
        listen = self._listen if track.kind == "audio" else self._watch
        self._tasks.append(asyncio.get_running_loop().create_task(listen(track)))

    async def _watch(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.audio.video_frames += 1

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                samples = frame.to_ndarray().astype(np.float32) / 32768.0
                rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
                dbfs = 20 * math.log10(rms) if rms > 1e-6 else -120.0
                self.audio.frames += 1
                self._last_audio = time.monotonic()
                self.audio.loud_frames += dbfs > -40.0
                self.audio.peak_rms_dbfs = max(self.audio.peak_rms_dbfs, dbfs)

    async def leave(self, say_goodbye: bool = True) -> int | None:
        """Close the connection; with ``say_goodbye``, DELETE the session first. Returns the DELETE's status."""
        status = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
            self._watchdog = None
        if say_goodbye and self.location is not None:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
                response = await http.delete(self.location, headers={"Authorization": f"Bearer {self.token}"})
                status = response.status_code
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._player is not None and self._player.audio is not None:
            self._player.audio.stop()
        await self.pc.close()
        return status
