"""A room: its participants, their published media, and what each of them hears and sees.

The room is the media side of a call: it owns each publisher's audio fan-out
and camera, each listener's mixer and video slots, and the data channels. It
implements :class:`pipeline.webrtc.hub.RoomMedia`, which is all that pipeline
stages see of it. Signalling, tokens and pipelines live in the call server.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.contrib.media import MediaBlackhole, MediaRelay
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack

from engine.frames import now_ns
from engine.runner import GraphRunner
from engine.stage import StageError
from pipeline.calls.tokens import Grant
from pipeline.webrtc.audio import AudioFanout, AudioMixer
from pipeline.webrtc.hub import Chunk
from pipeline.webrtc.quality import QualityMonitor
from pipeline.webrtc.video import VideoSlot

log = logging.getLogger(__name__)

SUBSCRIPTION_BACKLOG = 50
"""Chunks (1 s) a pipeline may fall behind a participant's audio before the oldest are dropped."""


class ParticipantKind(enum.StrEnum):
    ROOM = "room"
    """Joined through the room API: publishes and/or subscribes, with a data channel."""
    WHIP = "whip"
    """Publishes only (WHIP ingest)."""
    WHEP = "whep"
    """Plays back only (WHEP)."""
    AGENT = "agent"
    """A server-side participant running a pipeline on the room's audio."""


@dataclass(eq=False)
class Participant:
    """One session in a room."""

    identity: str
    session_id: str
    kind: ParticipantKind
    grants: frozenset[Grant]
    pc: RTCPeerConnection | None = None
    offer_ns: int = field(default_factory=now_ns)
    channel: RTCDataChannel | None = None
    mixer: AudioMixer | None = None
    fanout: AudioFanout | None = None
    camera: MediaStreamTrack | None = None
    video_slots: list[VideoSlot] = field(default_factory=list)
    monitor: QualityMonitor | None = None
    pipelines: list[GraphRunner] = field(default_factory=list)
    first_media_ns: int | None = None
    on_call_since: float | None = None
    """Monotonic time since when the call seconds are not reported yet; ``None`` before the media connected
    (an agent: before it was added) and after the last report."""
    usage_segments: int = 0
    """How many segments of call seconds were reported."""
    languages: list[str] = field(default_factory=list)
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    drains: list[MediaBlackhole] = field(default_factory=list)

    @property
    def join_latency_ms(self) -> float | None:
        """Offer received to the first media frame in the room's pipeline."""
        return None if self.first_media_ns is None else (self.first_media_ns - self.offer_ns) / 1e6

    def describe(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "kind": self.kind.value,
            "grants": sorted(g.value for g in self.grants),
            "connection": self.pc.connectionState if self.pc is not None else "server",
            "languages": self.languages,
            "join_latency_ms": None if self.join_latency_ms is None else round(self.join_latency_ms, 1),
        }


class Room:
    """Participants, published tracks and the relays between them."""

    def __init__(self, name: str, key: str, max_participants: int) -> None:
        self.name = name
        self.key = key
        self.max_participants = max_participants
        self.participants: dict[str, Participant] = {}
        self.joining: set[str] = set()
        """Sessions whose offer is being answered: they count against the room's size."""
        self.fanouts: dict[str, AudioFanout] = {}
        self.cameras: dict[str, MediaStreamTrack] = {}
        self.room_mixers: list[AudioMixer] = []
        self.relay = MediaRelay()
        self.dropped_chunks = 0
        self.messages_sent = 0

    # -- membership ----------------------------------------------------------
    @property
    def full(self) -> bool:
        present = sum(p.kind is not ParticipantKind.AGENT for p in self.participants.values())
        return present + len(self.joining) >= self.max_participants

    def describe(self) -> dict[str, Any]:
        return {
            "room": self.name,
            "max_participants": self.max_participants,
            "participants": [p.describe() for p in self.participants.values()],
        }

    def add(self, participant: Participant) -> None:
        self.participants[participant.identity] = participant
        if participant.mixer is not None:
            for fanout in self.fanouts.values():
                if fanout.identity != participant.identity:
                    participant.mixer.add_source(fanout)
        self.assign_video()
        self.announce()

    def remove(self, participant: Participant) -> None:
        if self.participants.get(participant.identity) is participant:
            del self.participants[participant.identity]
        identity = participant.identity
        if participant.fanout is not None and self.fanouts.get(identity) is participant.fanout:
            del self.fanouts[identity]
            for mixer in self._mixers():
                mixer.remove_source(identity)
        if participant.camera is not None and self.cameras.get(identity) is participant.camera:
            del self.cameras[identity]
        self.assign_video()
        self.announce()

    # -- published media -------------------------------------------------------
    def publish_audio(self, participant: Participant, fanout: AudioFanout) -> None:
        participant.fanout = fanout
        self.fanouts[fanout.identity] = fanout
        for mixer in self._mixers():
            if mixer.label != fanout.identity:
                mixer.add_source(fanout)

    def publish_video(self, participant: Participant, track: MediaStreamTrack) -> None:
        participant.camera = track
        self.cameras[participant.identity] = track
        self.assign_video()

    def _mixers(self) -> list[AudioMixer]:
        own = [p.mixer for p in self.participants.values() if p.mixer is not None]
        return own + self.room_mixers

    def assign_video(self) -> None:
        """Give each viewer's slots the other cameras, in join order, and tell the viewer."""
        for viewer in self.participants.values():
            if not viewer.video_slots:
                continue
            others = [identity for identity in self.cameras if identity != viewer.identity]
            changed = False
            for index, slot in enumerate(viewer.video_slots):
                wanted = others[index] if index < len(others) else None
                if slot.identity != wanted:
                    source = self.relay.subscribe(self.cameras[wanted], buffered=False) if wanted else None
                    slot.assign(wanted, source)
                    changed = True
            if changed:
                self.send_video_slots(viewer)

    def watched(self, track: MediaStreamTrack) -> bool:
        """Whether anyone watches ``track`` (a viewer's slot or a pipeline: a relay subscriber besides the
        drain that keeps it read); an unwatched camera need not be decoded."""
        subscribers = getattr(self.relay, "_MediaRelay__proxies", None)
        if subscribers is None:  # another aiortc layout: always decode, as before
            return True
        return len(subscribers.get(track, ())) > 1

    def send_video_slots(self, viewer: Participant) -> None:
        slots = [{"mid": slot.mid, "identity": slot.identity} for slot in viewer.video_slots]
        self.send_to(viewer, {"type": "video-slots", "slots": slots})

    def announce(self) -> None:
        """Tell everyone who is in the room."""
        self.send_data({"type": "participants", "participants": [p.describe() for p in self.participants.values()]})

    # -- RoomMedia: what stages see ----------------------------------------------
    def audio(self, participant: str | None) -> AsyncIterator[Chunk]:
        if participant is None:
            return self._mix()
        fanout = self.fanouts.get(participant)
        if fanout is None:
            raise StageError(f"'{participant}' publishes no audio in room '{self.name}'")
        return self._follow(fanout)

    async def _follow(self, fanout: AudioFanout) -> AsyncIterator[Chunk]:
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue(SUBSCRIPTION_BACKLOG)

        def offer(chunk: Chunk | None) -> None:
            if queue.full():
                queue.get_nowait()
                self.dropped_chunks += 1
            queue.put_nowait(chunk)

        unsubscribe = fanout.subscribe(offer)
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
        finally:
            unsubscribe()

    async def _mix(self) -> AsyncIterator[Chunk]:
        mixer = AudioMixer(label="")
        for fanout in self.fanouts.values():
            mixer.add_source(fanout)
        self.room_mixers.append(mixer)
        try:
            while True:
                yield await mixer.next_chunk()
        finally:
            self.room_mixers.remove(mixer)
            mixer.stop()

    def video(self, participant: str) -> MediaStreamTrack:
        camera = self.cameras.get(participant)
        if camera is None:
            raise StageError(f"'{participant}' publishes no video in room '{self.name}'")
        return self.relay.subscribe(camera, buffered=False)

    def send_data(self, message: dict[str, Any]) -> int:
        text = json.dumps(message, default=str)
        sent = 0
        for participant in self.participants.values():
            sent += self._send_text(participant, text)
        return sent

    def send_to(self, participant: Participant, message: dict[str, Any]) -> bool:
        return self._send_text(participant, json.dumps(message, default=str))

    def _send_text(self, participant: Participant, text: str) -> bool:
        channel = participant.channel
        if channel is None or channel.readyState != "open" or Grant.DATA not in participant.grants:
            return False
        try:
            channel.send(text)
        except InvalidStateError:  # the channel closed under us: the leave path cleans up
            return False
        self.messages_sent += 1
        return True
