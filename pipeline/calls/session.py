"""One session's media wiring and checks, apart from the server's bookkeeping."""

from __future__ import annotations

from aiortc.mediastreams import MediaStreamTrack

from pipeline.calls.errors import BadRequestError, ForbiddenError
from pipeline.calls.room import Participant, ParticipantKind
from pipeline.calls.sdp import RECEIVE_DIRECTIONS, OfferSummary
from pipeline.calls.tokens import Grant, JoinClaims
from pipeline.webrtc.audio import AudioMixer
from pipeline.webrtc.video import VideoSlot


def attach_outgoing(participant: Participant, summary: OfferSummary, max_video_slots: int) -> None:
    """Give each transceiver the client receives on a track: the room's mix, or a video slot."""
    assert participant.pc is not None
    sections = [s for s in summary.sections if s.kind in ("audio", "video")]
    for section, transceiver in zip(sections, participant.pc.getTransceivers(), strict=False):
        if (
            section.direction not in RECEIVE_DIRECTIONS
            or Grant.SUBSCRIBE not in participant.grants
            or participant.kind is ParticipantKind.WHIP
        ):
            continue
        track: MediaStreamTrack
        if transceiver.kind == "audio" and participant.mixer is None:
            track = participant.mixer = AudioMixer(label=participant.identity)
        elif transceiver.kind == "video" and len(participant.video_slots) < max_video_slots:
            slot = VideoSlot(str(transceiver.mid))
            participant.video_slots.append(slot)
            track = slot
        else:
            continue
        transceiver.sender.replaceTrack(track)
        transceiver.direction = "sendrecv" if section.direction == "sendrecv" else "sendonly"


async def release(participant: Participant) -> None:
    """Stop everything a session holds except its peer connection (the server closes that)."""
    for runner in participant.pipelines:
        await runner.stop()
    participant.pipelines.clear()
    if participant.monitor is not None:
        await participant.monitor.stop()
    if participant.fanout is not None:
        await participant.fanout.stop()
    for drain in participant.drains:
        await drain.stop()
    if participant.mixer is not None:
        participant.mixer.stop()
    for slot in participant.video_slots:
        slot.stop()


def grants_for(kind: ParticipantKind) -> tuple[Grant, ...]:
    return {
        ParticipantKind.WHIP: (Grant.PUBLISH,),
        ParticipantKind.WHEP: (Grant.SUBSCRIBE,),
    }.get(kind, (Grant.PUBLISH, Grant.SUBSCRIBE))


def check_directions(kind: ParticipantKind, claims: JoinClaims, summary: OfferSummary) -> None:
    sends = summary.sends("audio") or summary.sends("video")
    receives = summary.receives("audio") or summary.receives("video")
    if kind is ParticipantKind.WHIP and not sends:
        raise BadRequestError("a WHIP offer must send audio or video (sendonly or sendrecv)")
    if kind is ParticipantKind.WHEP and not receives:
        raise BadRequestError("a WHEP offer must receive audio or video (recvonly or sendrecv)")
    if sends and not claims.allows(Grant.PUBLISH) and kind is not ParticipantKind.WHEP:
        raise ForbiddenError("the offer sends media but the token lacks the publish grant")
    if receives and not claims.allows(Grant.SUBSCRIBE) and kind is not ParticipantKind.WHIP:
        raise ForbiddenError("the offer receives media but the token lacks the subscribe grant")
