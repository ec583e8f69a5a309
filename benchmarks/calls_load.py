"""The load generator of ``auralink bench calls``: WHIP publishers in their own process.

Run as ``python -m benchmarks.calls_load URL SECRET ROOM [PER_ROOM]`` (with ``PER_ROOM``, publishers fill
rooms ``ROOM-0``, ``ROOM-1`` … of that many each, which a cluster's front spreads over its workers).
Driven by JSON lines on stdin — ``{"add": K}`` connects K more publishers (each
a paced 440 Hz tone over WebRTC), ``{"sent": true}`` asks how many 20 ms frames
all of them have sent so far, ``{"quit": true}`` ends — and answers one JSON
line on stdout for each. Runs apart from the engine so that the engine's CPU
time is its own.

The generator must stay far cheaper than what it measures, or it, not the engine, sets the limit (it did:
at 30 publishers its one process took 0.89 cores and kept only 83 % of real time). So the tone is Opus-encoded
once, and every publisher replays the same packets (:class:`ReplayedTone`); aiortc's sender only packs them
(an ``av.Packet`` skips its encoder and the thread it encodes on). And one :class:`PacingClock` wakes every
publisher each 20 ms, instead of a timer per publisher. What is left per packet is aiortc's RTP header,
SRTP and the socket: 0.55–0.66 % of a core per publisher, against 2.7–2.9 % with a ``ToneTrack`` each.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import sys
from typing import Any

from aiortc.codecs.opus import OpusEncoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet

from pipeline.calls.client import TONE_RATE, TONE_SAMPLES, CallClient, tone_frame
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.webrtc.ice import apply_host_addresses

FRAME_S = TONE_SAMPLES / TONE_RATE
TIME_BASE = fractions.Fraction(1, TONE_RATE)
LOOP_FRAMES = 50
"""One second of a 440 Hz tone is a whole number of periods, so its packets loop without a seam."""


def encoded_tone() -> list[bytes]:
    """One second of the tone as 20 ms Opus packets, from the encoder aiortc's senders use (96 kb/s)."""
    encoder = OpusEncoder()
    payloads: list[bytes] = []
    for index in range(2 * LOOP_FRAMES):  # the second second: the encoder's start-up is behind it
        payloads += encoder.encode(tone_frame(index))[0]
    return payloads[-LOOP_FRAMES:]


class PacingClock:
    """One timer for every publisher: each 20 ms tick wakes all the tracks waiting on it at once."""

    def __init__(self) -> None:
        self.ticks = 0
        self._tick: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def after(self, tick: int) -> None:
        """Return once the clock has passed ``tick`` (at once if it already has)."""
        while self.ticks <= tick:
            if self._tick is None:
                self._tick = asyncio.get_running_loop().create_future()
            # shielded: a publisher that hangs up while waiting must not cancel everyone's tick
            await asyncio.shield(self._tick)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            await asyncio.sleep(started + (self.ticks + 1) * FRAME_S - loop.time())
            # after a stall the count jumps: the tracks then send what they owe at once, as a late sender does
            self.ticks = max(self.ticks + 1, int((loop.time() - started) / FRAME_S))
            tick, self._tick = self._tick, None
            if tick is not None:
                tick.set_result(None)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class ReplayedTone(MediaStreamTrack):
    """A publisher's tone: the pre-encoded packets, one per tick of the shared clock."""

    kind = "audio"

    def __init__(self, clock: PacingClock, payloads: list[bytes]) -> None:
        super().__init__()
        self.clock = clock
        self.payloads = payloads
        self.sent = 0
        """Frames handed to the sender so far."""
        self._tick: int | None = None

    async def recv(self) -> Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._tick is None:
            self._tick = self.clock.ticks
        await self.clock.after(self._tick)
        self._tick += 1
        packet: Packet[Any] = Packet(self.payloads[self.sent % len(self.payloads)])
        packet.pts = self.sent * TONE_SAMPLES
        packet.time_base = TIME_BASE
        self.sent += 1
        return packet


async def main(url: str, secret: str, room: str, per_room: int = 0) -> None:
    """Publishers join ``room``; with ``per_room`` > 0, rooms ``ROOM-0``, ``ROOM-1`` … of that many each."""
    apply_host_addresses(["127.0.0.1"])
    clients: list[CallClient] = []
    tones: list[ReplayedTone] = []
    payloads, clock = encoded_tone(), PacingClock()
    clock.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if "add" in command:
            for _ in range(int(command["add"])):
                identity = f"load-{len(clients)}"
                target = f"{room}-{len(clients) // per_room}" if per_room else room
                client = CallClient(url, mint_join_token(secret, target, identity, {Grant.PUBLISH}))
                tone = ReplayedTone(clock, payloads)
                response = await client.join(f"/whip/{target}", publish=tone, receive_audio=False, data_channel=False)
                if response.status_code != 201:
                    raise SystemExit(f"{identity} could not join: {response.status_code} {response.text}")
                await client.connected()
                clients.append(client)
                tones.append(tone)
        if "quit" in command:
            break
        print(json.dumps({"participants": len(clients), "sent": sum(tone.sent for tone in tones)}), flush=True)
    for client in clients:
        await client.leave(say_goodbye=False)
    await clock.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0))
