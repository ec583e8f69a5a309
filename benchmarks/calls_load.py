"""The load generator of ``auralink bench calls``: WHIP publishers in their own process.

Run as ``python -m benchmarks.calls_load URL SECRET ROOM [PER_ROOM]`` (with ``PER_ROOM``, publishers fill
rooms ``ROOM-0``, ``ROOM-1`` … of that many each, which a cluster's front spreads over its workers).
Driven by JSON lines on stdin — ``{"add": K}`` connects K more publishers (each
a paced 440 Hz tone over WebRTC), ``{"sent": true}`` asks how many 20 ms frames
all of them have sent so far, ``{"quit": true}`` ends — and answers one JSON
line on stdout for each. Runs apart from the engine so that the engine's CPU
time is its own.
"""

from __future__ import annotations

import asyncio
import json
import sys

from pipeline.calls.client import CallClient, ToneTrack
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.webrtc.ice import apply_host_addresses


async def main(url: str, secret: str, room: str, per_room: int = 0) -> None:
    """Publishers join ``room``; with ``per_room`` > 0, rooms ``ROOM-0``, ``ROOM-1`` … of that many each."""
    apply_host_addresses(["127.0.0.1"])
    clients: list[CallClient] = []
    tones: list[ToneTrack] = []
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
                tone = ToneTrack()
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


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0))
