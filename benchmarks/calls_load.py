"""The load generator of ``auralink bench calls``: WHIP publishers in their own process.

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


async def main(url: str, secret: str, room: str) -> None:
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
                client = CallClient(url, mint_join_token(secret, room, identity, {Grant.PUBLISH}))
                tone = ToneTrack()
                response = await client.join(f"/whip/{room}", publish=tone, receive_audio=False, data_channel=False)
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
    asyncio.run(main(*sys.argv[1:4]))
