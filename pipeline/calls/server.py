"""The call server: rooms, joins over SDP offers, agents, and the lifecycle of every session.

Transport-neutral: the HTTP app (``pipeline.calls.http``) maps requests onto
these methods and :class:`~pipeline.calls.errors.CallError` onto statuses.
Every session ends through :meth:`CallServer._end`, whoever asks (a DELETE,
a failed connection, a connect timeout, the room closing), so nothing leaks.

What a call uses goes to the telemetry reporter, which the control plane bills
from: each participant's ``call_seconds`` (media connected, or agent added, to
the end of the session), in segments reported every ``usage_checkpoint_s`` while
the call lasts and one more when it ends, each under an idempotency key made
from the session id and the segment's number (so an engine that dies mid-call
loses at most one checkpoint's worth, and a replay counts nothing twice), and
every ``usage`` event the participant's pipeline
posts on its graph's bus (STT audio seconds, translated characters, AIC bytes
saved), for room participants, WHIP publishers, WHEP viewers and agents alike.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import MediaStreamTrack

from engine.frames import EventFrame
from engine.runner import GraphRunner
from engine.stage import StageError
from pipeline.calls.agents import start_agent_pipeline
from pipeline.calls.authorize import authorize
from pipeline.calls.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError, room_not_found
from pipeline.calls.live import LivePipelines
from pipeline.calls.room import Participant, ParticipantKind, Room
from pipeline.calls.sdp import OfferError, OfferSummary, check_offer
from pipeline.calls.session import attach_outgoing, check_directions, grants_for, release
from pipeline.calls.tokens import ROOM_NAME, ROOM_NAME_RULE, Grant, JoinClaims
from pipeline.config import ConfigError
from pipeline.config.loader import load_pipeline_text
from pipeline.speech.usage import usage_forwarder
from pipeline.webrtc.audio import AudioFanout
from pipeline.webrtc.hub import register_room, unregister_room
from pipeline.webrtc.ice import IcePolicy
from pipeline.webrtc.quality import QualityMonitor
from pipeline.webrtc.receive import decode_audio_inline, gate_video_decoding
from pipeline.webrtc.tasks import BackgroundTasks
from telemetry.records import CallEvent, CallEventType, LiveReporter, QualitySample, TelemetryReporter, UsageEvent

log = logging.getLogger(__name__)

_server_ids = itertools.count(1)


@dataclass(frozen=True)
class CallServerOptions:
    """How a call server behaves (built from :class:`settings.EngineSettings` by the CLI)."""

    secret: str
    ice: IcePolicy = field(default_factory=IcePolicy)
    room_pipeline: Path | None = None
    """The pipeline file run on each publishing participant's audio; ``None``: none."""
    max_participants: int = 16
    quality_interval_s: float = 5.0
    connect_timeout_s: float = 15.0
    room_idle_timeout_s: float = 300.0
    max_video_slots: int = 8
    usage_checkpoint_s: float = 60.0
    """Call seconds are reported at least this often while a call lasts."""
    live_interval_s: float = 1.0
    """How often each room pipeline's stage stats are reported live (when the reporter takes live records)."""


class CallServer:
    """Rooms and sessions of one engine process."""

    def __init__(self, options: CallServerOptions, reporter: TelemetryReporter) -> None:
        self.options = options
        self.reporter = reporter
        self.rooms: dict[str, Room] = {}
        self.sessions: dict[str, tuple[Room, Participant]] = {}
        self.peers: set[RTCPeerConnection] = set()
        self.join_latencies_ms: list[float] = []
        self._id = next(_server_ids)
        self._tasks = BackgroundTasks(log, "call server task failed")
        self._idle_timers: dict[str, asyncio.TimerHandle] = {}
        self._room_pipeline_text = options.room_pipeline.read_text() if options.room_pipeline else None
        self.room_opened_listeners: list[Callable[[str], None]] = []
        """Told each opened room's name (a cluster worker confirms the room's placement in Redis)."""
        self.room_closed_listeners: list[Callable[[str], None]] = []
        """Told each closed room's name (a cluster worker forgets the room in Redis)."""
        self.live = LivePipelines(reporter, options.live_interval_s) if isinstance(reporter, LiveReporter) else None
        """Reports the room pipelines' stage stats and captions live (``pipeline.calls.live``)."""

    # -- authorisation ------------------------------------------------------------
    def authorize(self, token: str | None, room: str, *any_of: Grant) -> JoinClaims:
        """The token's claims when it is valid for ``room`` with one of ``any_of`` (all grants if empty)."""
        return authorize(self.options.secret, token, room, *any_of)

    def room(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is None:
            raise room_not_found(name)
        return room

    # -- rooms ----------------------------------------------------------------------
    def create_room(self, token: str | None, name: str, max_participants: int | None) -> tuple[Room, bool]:
        """The room (created when new) and whether it was created."""
        if not ROOM_NAME.fullmatch(name):
            raise BadRequestError(ROOM_NAME_RULE)
        self.authorize(token, name)
        if name in self.rooms:
            return self.rooms[name], False
        return self._open_room(name, max_participants), True

    def _open_room(self, name: str, max_participants: int | None) -> Room:
        if not ROOM_NAME.fullmatch(name):
            raise BadRequestError(ROOM_NAME_RULE)
        limit = max_participants or self.options.max_participants
        if not 1 <= limit <= 1000:
            raise BadRequestError("max_participants must be between 1 and 1000")
        room = Room(name, f"{self._id}/{name}", limit)
        register_room(room.key, room)
        self.rooms[name] = room
        self._report_event("room-opened", room, None, max_participants=limit)
        self._arm_idle_timer(room)
        for listener in self.room_opened_listeners:
            listener(name)
        return room

    async def close_room(self, name: str) -> None:
        room = self.rooms.pop(name, None)
        if room is None:
            return
        timer = self._idle_timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        for participant in list(room.participants.values()):
            await self._end(participant.session_id, "room closed")
        unregister_room(room.key)
        self._report_event("room-closed", room, None)
        for listener in self.room_closed_listeners:
            listener(name)

    def _arm_idle_timer(self, room: Room) -> None:
        if room.participants or room.name in self._idle_timers:
            return
        loop = asyncio.get_running_loop()
        self._idle_timers[room.name] = loop.call_later(
            self.options.room_idle_timeout_s, lambda: self._spawn(self._close_if_idle(room.name))
        )

    async def _close_if_idle(self, name: str) -> None:
        self._idle_timers.pop(name, None)
        room = self.rooms.get(name)
        if room is not None and not room.participants:
            await self.close_room(name)

    # -- joining ----------------------------------------------------------------------
    async def join(
        self, kind: ParticipantKind, room_name: str, token: str | None, offer: bytes, reconnect_of: str | None = None
    ) -> tuple[str, Participant]:
        """Answer ``offer`` for a new session in ``room_name``; returns the answer SDP and the session.

        A WHIP publish (its token has the publish grant for the room) opens a room that does not exist yet,
        with ``max_participants`` from the options: WHIP clients (OBS, GStreamer's whipsink) cannot create
        rooms. Other joins need the room to exist. ``reconnect_of`` names the session this one continues
        (a client back after its engine died): the join is reported as a reconnect.
        """
        claims = self.authorize(token, room_name, *grants_for(kind))
        room = self.rooms.get(room_name) if kind is ParticipantKind.WHIP else self.room(room_name)
        try:
            text, summary = check_offer(offer)
        except OfferError as error:
            raise BadRequestError(str(error)) from None
        check_directions(kind, claims, summary)
        if room is None:  # only a valid offer opens the room
            room = self._open_room(room_name, None)
        previous = room.participants.get(claims.identity)
        if previous is not None and previous.kind is ParticipantKind.AGENT:
            raise ConflictError(f"'{claims.identity}' is an agent in room '{room_name}'")
        if previous is not None:
            await self._end(previous.session_id, "replaced by a new session")
        elif room.full:
            raise ConflictError(f"room '{room_name}' is full ({room.max_participants} participants)")
        participant = Participant(claims.identity, uuid.uuid4().hex, kind, claims.grants)
        self.sessions[participant.session_id] = (room, participant)
        room.joining.add(participant.session_id)  # counts against the room's size while the offer is answered
        try:
            answer = await self._connect(room, participant, text, summary)
        except BaseException:
            await self._end(participant.session_id, "the offer could not be answered")
            raise
        finally:
            room.joining.discard(participant.session_id)
        rival = room.participants.get(claims.identity)
        if rival is not None and rival.kind is not ParticipantKind.AGENT:
            await self._end(rival.session_id, "replaced by a new session")  # two joins raced with one identity
        room.add(participant)
        self._cancel_idle_timer(room)
        reconnect = {"reconnect": True, "previous_session": reconnect_of[:64]} if reconnect_of else {}
        self._report_event("participant-joined", room, participant, kind=kind.value, **reconnect)
        return answer, participant

    async def _connect(self, room: Room, participant: Participant, offer: str, summary: OfferSummary) -> str:
        pc = RTCPeerConnection(self.options.ice.rtc_configuration())
        participant.pc = pc
        self.peers.add(pc)
        pc.on("track", lambda track: self._on_track(room, participant, track))
        pc.on("datachannel", lambda channel: self._on_datachannel(room, participant, channel))
        pc.on("connectionstatechange", lambda: self._on_connection_state(room, participant))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(self.options.ice.filter_offer(offer), "offer"))
            decode_audio_inline(pc)
            gate_video_decoding(pc, room.watched)
            attach_outgoing(participant, summary, self.options.max_video_slots)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:  # noqa: BLE001 - aiortc raises many types on hostile SDP
            raise BadRequestError(f"the offer could not be answered: {type(error).__name__}: {error}") from None
        timer = asyncio.get_running_loop().call_later(
            self.options.connect_timeout_s, self._connect_timed_out, participant.session_id
        )
        participant.timers.append(timer)
        return str(pc.localDescription.sdp)

    def _on_track(self, room: Room, participant: Participant, track: MediaStreamTrack) -> None:
        publishes = participant.kind is not ParticipantKind.WHEP and Grant.PUBLISH in participant.grants
        if publishes and track.kind == "audio" and participant.fanout is None:
            fanout = AudioFanout(participant.identity, track)
            fanout.start()
            room.publish_audio(participant, fanout)
            if self._room_pipeline_text is not None:
                self._spawn(self._start_room_pipeline(room, participant))
        elif publishes and track.kind == "video" and participant.camera is None:
            # the relay keeps reading while one consumer exists, so unwatched frames never pile up
            self._drain(participant, room.relay.subscribe(track, buffered=False))
            room.publish_video(participant, track)
        else:
            self._drain(participant, track)  # media nobody may see goes nowhere, but is read

    def _drain(self, participant: Participant, track: MediaStreamTrack) -> None:
        drain = MediaBlackhole()
        drain.addTrack(track)
        participant.drains.append(drain)
        self._spawn(drain.start())

    def _on_datachannel(self, room: Room, participant: Participant, channel: Any) -> None:
        if participant.channel is not None:
            return
        participant.channel = channel

        def opened() -> None:
            room.announce()
            room.send_video_slots(participant)

        if channel.readyState == "open":
            opened()
        else:
            channel.on("open", opened)

    def _on_connection_state(self, room: Room, participant: Participant) -> None:
        assert participant.pc is not None
        state = participant.pc.connectionState
        if state == "connected" and participant.monitor is None:
            for timer in participant.timers:
                timer.cancel()
            if participant.on_call_since is None:
                self._start_billing(room, participant)
            participant.monitor = QualityMonitor(
                room.name, participant.identity, participant.pc, self.options.quality_interval_s, self._on_quality
            )
            participant.monitor.start()
        elif state in ("failed", "closed"):
            self._spawn(self._end(participant.session_id, f"connection {state}"))

    def _connect_timed_out(self, session_id: str) -> None:
        self._spawn(self._end(session_id, f"not connected within {self.options.connect_timeout_s:g} s"))

    def _on_quality(self, sample: QualitySample) -> None:
        self.reporter.report(sample)
        found = self.rooms.get(sample.room)
        participant = found.participants.get(sample.participant) if found else None
        if found is not None and participant is not None:
            found.send_to(
                participant,
                {
                    "type": "quality",
                    "mos": sample.mos,
                    "jitter_ms": sample.jitter_ms,
                    "rtt_ms": sample.rtt_ms,
                    "loss": sample.loss_fraction,
                },
            )

    # -- pipelines ------------------------------------------------------------------------
    async def warm_room_pipeline(self) -> None:
        """Load the room pipeline's models now rather than at the first room (see :meth:`Stage.warm`)."""
        if self._room_pipeline_text is None or self.options.room_pipeline is None:
            return
        try:
            graph = load_pipeline_text(self._room_pipeline_text, self.options.room_pipeline).graph
            for name in graph.stages:
                await graph.instance(name).warm()
        except (ConfigError, StageError) as error:  # the room's pipeline reports it again when it starts
            log.warning("could not warm the room pipeline: %s", error)

    async def _start_room_pipeline(self, room: Room, participant: Participant) -> None:
        assert self._room_pipeline_text is not None and self.options.room_pipeline is not None
        runner = await start_agent_pipeline(
            self._room_pipeline_text,
            self.options.room_pipeline,
            room,
            participant.identity,
            participant.identity,
            on_event=usage_forwarder(self.reporter, room.name, participant.identity),
            before_start=self._live_watcher(room, participant.identity),
        )
        if participant.session_id not in self.sessions:
            await runner.stop()
            return
        participant.pipelines.append(runner)

        def on_message(event: EventFrame) -> None:
            if event.name == "first-media" and participant.first_media_ns is None:
                participant.first_media_ns = event.ingest_ns
                if participant.join_latency_ms is not None:
                    self.join_latencies_ms.append(participant.join_latency_ms)

        runner.bus.subscribe(on_message)
        for message in runner.bus.recent:
            on_message(message)

    def _live_watcher(self, room: Room, identity: str) -> Callable[[GraphRunner], None] | None:
        live = self.live
        if live is None:
            return None
        return lambda runner: live.watch(runner, room.name, identity)

    async def add_agent(
        self, room_name: str, token: str | None, identity: str, pipeline_text: str, languages: list[str]
    ) -> Participant:
        """Start a server-side participant running ``pipeline_text`` on the room's audio mix."""
        self.authorize(token, room_name, Grant.AGENT)
        room = self.room(room_name)
        if not ROOM_NAME.fullmatch(identity):  # an agent's identity follows the rule of a room's name
            raise BadRequestError("an agent identity is 1 to 64 letters, digits, '_', '.' or '-'")
        if identity in room.participants:
            raise ConflictError(f"'{identity}' is already in room '{room_name}'")
        forward_usage = usage_forwarder(self.reporter, room.name, identity)
        runner = await start_agent_pipeline(
            pipeline_text,
            Path(f"agent-{identity}.yaml"),
            room,
            None,
            identity,
            on_event=forward_usage,
            before_start=self._live_watcher(room, identity),
        )
        agent = Participant(identity, uuid.uuid4().hex, ParticipantKind.AGENT, frozenset({Grant.DATA}))
        self._start_billing(room, agent)
        agent.languages = list(languages)
        agent.pipelines.append(runner)
        self.sessions[agent.session_id] = (room, agent)
        room.add(agent)
        self._cancel_idle_timer(room)
        self._report_event("participant-joined", room, agent, kind="agent", languages=agent.languages)
        return agent

    async def remove_agent(self, room_name: str, token: str | None, identity: str) -> None:
        self.authorize(token, room_name, Grant.AGENT)
        agent = self.room(room_name).participants.get(identity)
        if agent is None or agent.kind is not ParticipantKind.AGENT:
            raise NotFoundError(f"no agent '{identity}' in room '{room_name}'")
        await self._end(agent.session_id, "stopped by request")

    # -- leaving ----------------------------------------------------------------------------
    async def leave(self, room_name: str, session_id: str, token: str | None, kind: ParticipantKind) -> None:
        """End a session at the client's request (the DELETE of its resource URL)."""
        claims = self.authorize(token, room_name)
        found = self.sessions.get(session_id)
        if found is None or found[0].name != room_name or found[1].kind is not kind:
            raise NotFoundError(f"no such session in room '{room_name}' (it may have ended already)")
        if found[1].identity != claims.identity and not claims.allows(Grant.AGENT):
            raise ForbiddenError("only the session's own identity (or an agent token) may end it")
        await self._end(session_id, "left")

    async def _end(self, session_id: str, reason: str) -> None:
        found = self.sessions.pop(session_id, None)
        if found is None:
            return
        room, participant = found
        ended = time.monotonic()
        for timer in participant.timers:
            timer.cancel()
        joined = participant.identity in room.participants and room.participants[participant.identity] is participant
        room.remove(participant)
        await release(participant)
        if participant.pc is not None:
            await participant.pc.close()
            self.peers.discard(participant.pc)
        self._report_call_seconds(room, participant, ended, last=True)
        if joined:
            self._report_event("participant-left", room, participant, reason=reason)
        if room.name in self.rooms:
            self._arm_idle_timer(room)

    def _cancel_idle_timer(self, room: Room) -> None:
        timer = self._idle_timers.pop(room.name, None)
        if timer is not None:
            timer.cancel()

    # -- housekeeping ------------------------------------------------------------------------
    def _report_event(self, event: CallEventType, room: Room, participant: Participant | None, **attrs: Any) -> None:
        self.reporter.report(
            CallEvent(
                type=event, room=room.name, participant=participant.identity if participant else None, attributes=attrs
            )
        )

    def _start_billing(self, room: Room, participant: Participant) -> None:
        participant.on_call_since = time.monotonic()
        self._arm_usage_checkpoint(room, participant)

    def _arm_usage_checkpoint(self, room: Room, participant: Participant) -> None:
        def checkpoint() -> None:
            participant.timers.remove(handle)
            if participant.session_id in self.sessions:
                self._report_call_seconds(room, participant, time.monotonic(), last=False)
                self._arm_usage_checkpoint(room, participant)

        handle = asyncio.get_running_loop().call_later(self.options.usage_checkpoint_s, checkpoint)
        participant.timers.append(handle)

    def _report_call_seconds(self, room: Room, participant: Participant, until: float, *, last: bool) -> None:
        """The session's call seconds since the last report; each segment's key is its own, so none counts twice."""
        since = participant.on_call_since
        if since is None:  # never connected (or already reported to the end): nothing to bill
            return
        participant.on_call_since = None if last else until
        segment, participant.usage_segments = participant.usage_segments, participant.usage_segments + 1
        self.reporter.report(
            UsageEvent(
                metric="call_seconds",
                quantity=round(max(0.0, until - since), 3),
                room=room.name,
                participant=participant.identity,
                feature="call",
                provider=participant.kind.value,
                idempotency_key=f"call-seconds-{participant.session_id}-{segment}",
            )
        )

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        self._tasks.spawn(work)

    async def aclose(self) -> None:
        """End every session and room; wait for background work."""
        for name in list(self.rooms):
            await self.close_room(name)
        if self.live is not None:
            self.live.stop()
        await self._tasks.wait(cancel=True)
