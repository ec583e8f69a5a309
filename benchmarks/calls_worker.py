"""An engine worker of ``auralink bench calls --workers N``: a call server in a cluster, in its own process.

Run as ``python -m benchmarks.calls_worker REDIS_URL KEY_PREFIX SECRET``. It serves on a free loopback port,
joins the cluster in Redis (so the front places rooms on it), runs the bundled levels pipeline on each
publisher, and answers each JSON line on stdin with its counters — ``{"packets": received audio packets,
"frames": frames its level meters saw, "participants": N}`` — until ``{"quit": true}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys

from benchmarks.calls_suite import bench_server, meter_frames, packets_received
from pipeline.calls.http import create_engine_app
from pipeline.calls.serving import serving
from pipeline.cluster.registry import ClusterRegistry, new_worker_id
from pipeline.cluster.worker import ClusterMembership
from pipeline.webrtc.ice import apply_host_addresses


async def main(redis_url: str, key_prefix: str, secret: str) -> None:
    apply_host_addresses(["127.0.0.1"])
    for noisy in ("aioice", "aiortc", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = bench_server(secret)
    registry = ClusterRegistry.from_url(redis_url, key_prefix)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with serving(create_engine_app(server)) as url:
        membership = ClusterMembership(registry, server, new_worker_id() + secrets.token_hex(2), url)
        await membership.start()
        try:
            while line := await reader.readline():
                if json.loads(line).get("quit"):
                    break
                answer = {
                    "packets": await packets_received(server),
                    "frames": meter_frames(server),
                    "participants": len(server.sessions),
                }
                print(json.dumps(answer), flush=True)
        finally:
            await membership.aclose()
            await registry.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
