"""A participant in its own process, to be killed without saying goodbye (see test_teardown.py)."""

from __future__ import annotations

import asyncio
import sys

from pipeline.calls.client import CallClient, ToneTrack
from pipeline.webrtc.ice import apply_host_addresses


async def main(url: str, token: str, room: str) -> None:
    apply_host_addresses(["127.0.0.1"])
    client = CallClient(url, token)
    response = await client.join(f"/rooms/{room}/join", publish=ToneTrack())
    if response.status_code != 201:
        raise SystemExit(f"join failed: {response.status_code} {response.text}")
    await client.connected()
    print("connected", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
