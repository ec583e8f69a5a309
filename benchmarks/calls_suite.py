"""Calls: join time, concurrent participants and CPU per participant (``auralink bench calls``).

One engine (CallServer + uvicorn) runs in this process on loopback with the
room pipeline ``webrtc_source -> resample (16 kHz) -> level_meter ->
datachannel_sink``, run once per participant. WHIP publishers (a tone's 20 ms
Opus packets, encoded once and replayed on one pacing clock) run in a separate
process, ``benchmarks.calls_load``, so the engine's CPU time is its own — but
both share this machine's cores, as they would not in production.

* join time: offer received to the first audio frame in that participant's
  graph, for participants joining one at a time into an idle engine;
* concurrency: participants are added in steps; at each step, over a steady
  window, the frames the level meters saw are compared with the audio packets
  the engine received (``dropped``: lost inside the engine — jitter buffer,
  decoder, queues) and with the frames the publishers produced
  (``shortfall``: network and a starved load generator included), and the
  frames the publishers sent with what real time asked of them (``paced``).
  A step holds while under 1 % is dropped and the publishers kept 99 % of
  real time; the ramp stops at the first step that does not, and the last
  one that held is what the engine sustains here; the engine's CPU per
  participant is measured at that step.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import psutil
from aiortc.stats import RTCInboundRtpStreamStats

from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from pipeline.calls.client import TONE_RATE, TONE_SAMPLES, CallClient, ToneTrack
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer, CallServerOptions
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.webrtc.ice import IcePolicy, apply_host_addresses
from telemetry.records import MemoryReporter

FRAMES_PER_S = 50
MAX_DROPPED = 0.01
TARGET_CPU_PER_PARTICIPANT_PCT = 2.2
PER_ROOM = 5
"""Publishers per room with ``--workers``: rooms, not participants, are what the front places."""
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
LOAD_ROOM = "load"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Where ``benchmarks.calls_load`` is run from, so no other ``pipeline`` package in the caller's folder shadows ours."""


@dataclass
class Step:
    participants: int
    dropped_fraction: float
    """Of the audio packets the engine received, the share that never reached a level meter."""
    shortfall_fraction: float
    """Of the frames the publishers produced, the share that never reached a level meter (network and load included)."""
    engine_cpu_cores: float
    load_cpu_cores: float
    paced_fraction: float
    """Of the frames real time asked of the publishers in the window, the share they sent: below 1 the load
    generator fell behind (its core was full), so the engine was offered less than the step claims."""
    machine_cpu_busy: float = 0.0
    """The whole machine's CPU use in the window (every process, ours and others'), 1 = every core busy."""

    def holds(self) -> bool:
        """The engine kept up with a load that really was this many participants."""
        return self.dropped_fraction < MAX_DROPPED and self.paced_fraction >= 1 - MAX_DROPPED


class LoadProcess:
    """The publishers' process, driven line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, secret: str, per_room: int = 0) -> LoadProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.calls_load", url, secret, LOAD_ROOM, str(per_room),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=PROJECT_ROOT,
        )  # fmt: skip
        return cls(process)

    async def ask(self, command: dict[str, object]) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 300)
        if not line:
            raise RuntimeError("the load process ended early")
        answer: dict[str, int] = json.loads(line)
        return answer

    async def close(self) -> None:
        """Ask the publishers to hang up; kill them if they take too long."""
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b'{"quit": true}\n')
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
        await self.process.wait()


async def packets_received(server: CallServer) -> int:
    """Audio packets the engine's peer connections received, over every room."""
    total = 0
    for room in list(server.rooms.values()):
        for participant in list(room.participants.values()):
            if participant.pc is not None:
                report = await participant.pc.getStats()
                total += sum(s.packetsReceived for s in report.values() if isinstance(s, RTCInboundRtpStreamStats))
    return total


def meter_frames(server: CallServer) -> int:
    """Frames the level meters of every room's pipelines saw."""
    return sum(
        runner.nodes["meter"].stats.frames_in
        for room in list(server.rooms.values())
        for participant in room.participants.values()
        for runner in participant.pipelines
    )


def bench_server(secret: str) -> CallServer:
    """The engine under test: loopback ICE, the bundled levels pipeline on each publisher."""
    from auralink.calls import LEVELS_PIPELINE, bundled_room_pipeline

    return CallServer(
        CallServerOptions(
            secret=secret,
            ice=IcePolicy.from_settings([], None, None, ["127.0.0.1"], ["127.0.0.0/8"]),
            room_pipeline=bundled_room_pipeline(LEVELS_PIPELINE),
            quality_interval_s=5.0,
        ),
        MemoryReporter(),
    )


class Engines(Protocol):
    """The engine processes under test, however many."""

    pids: list[int]

    async def counters(self) -> tuple[int, int]:
        """Audio packets received and frames metered, summed over the engines."""
        ...


@dataclass
class InProcessEngine:
    server: CallServer
    pids: list[int] = field(default_factory=lambda: [os.getpid()])

    async def counters(self) -> tuple[int, int]:
        return await packets_received(self.server), meter_frames(self.server)


def _cpu_seconds(pids: list[int]) -> float:
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


async def _join_times(server: CallServer, url: str, secret: str, count: int) -> list[float]:
    """Participants join one at a time (each waits for its first frame in the graph, then leaves)."""
    server.join_latencies_ms.clear()
    for index in range(count):
        client = CallClient(url, mint_join_token(secret, LOAD_ROOM, f"joiner-{index}", {Grant.PUBLISH}))
        await client.join(f"/whip/{LOAD_ROOM}", publish=ToneTrack(), receive_audio=False, data_channel=False)
        deadline = time.monotonic() + 10
        while len(server.join_latencies_ms) <= index and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        await client.leave()
    return list(server.join_latencies_ms)


async def _step(engines: Engines, load: LoadProcess, add: int, window_s: float) -> Step:
    await load.ask({"add": add})
    await asyncio.sleep(2.0)  # let the new pipelines settle
    child = load.process.pid
    cpu0, child0, started = _cpu_seconds(engines.pids), _cpu_seconds([child]), time.monotonic()
    psutil.cpu_percent()  # the machine's use is measured from here
    sent0 = (await load.ask({}))["sent"]
    received0, seen0 = await engines.counters()
    await asyncio.sleep(window_s)
    answer = await load.ask({})
    received, seen = await engines.counters()
    elapsed = time.monotonic() - started
    seen, received, sent = seen - seen0, received - received0, answer["sent"] - sent0
    return Step(
        participants=answer["participants"],
        dropped_fraction=max(0.0, 1 - seen / received) if received else 1.0,
        shortfall_fraction=max(0.0, 1 - seen / sent) if sent else 1.0,
        engine_cpu_cores=(_cpu_seconds(engines.pids) - cpu0) / elapsed,
        load_cpu_cores=(_cpu_seconds([child]) - child0) / elapsed,
        paced_fraction=sent / (answer["participants"] * elapsed * TONE_RATE / TONE_SAMPLES),
        machine_cpu_busy=psutil.cpu_percent() / 100,
    )


async def _ramp(engines: Engines, load: LoadProcess, options: BenchOptions) -> list[Step]:
    steps: list[Step] = []
    step_size, limit, window_s = (5, 10, 3.0) if options.quick else (5, 100, 6.0)
    while not steps or steps[-1].participants < limit:
        steps.append(await _step(engines, load, step_size, window_s))
        if not steps[-1].holds():  # nothing past the first step that fails counts as sustained
            break
    return steps


async def _measure(options: BenchOptions) -> SuiteResult:
    apply_host_addresses(["127.0.0.1"])
    for noisy in ("aioice", "aiortc", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    secret = secrets.token_urlsafe(32)
    server = bench_server(secret)
    async with serving(create_engine_app(server)) as url:
        server.create_room(mint_join_token(secret, LOAD_ROOM, "bench"), LOAD_ROOM, 1000)
        joins = await _join_times(server, url, secret, 10 if options.quick else 30)
        load = await LoadProcess.start(url, secret)
        try:
            steps = await _ramp(InProcessEngine(server), load, options)
        finally:
            await load.close()
    return _result(joins, steps, workers=1)


class WorkerProcesses:
    """``benchmarks.calls_worker`` processes: engines in a cluster, each driven over its stdin."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes
        self.pids = [process.pid for process in processes]

    @classmethod
    async def start(cls, count: int, redis_url: str, key_prefix: str, secret: str) -> WorkerProcesses:
        command = [sys.executable, "-m", "benchmarks.calls_worker", redis_url, key_prefix, secret]
        pipe = asyncio.subprocess.PIPE
        processes = [
            await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe, cwd=PROJECT_ROOT)
            for _ in range(count)
        ]
        return cls(processes)

    async def _ask(self, process: asyncio.subprocess.Process, command: dict[str, object]) -> dict[str, int]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write((json.dumps(command) + "\n").encode())
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"engine worker {process.pid} ended early")
        answer: dict[str, int] = json.loads(line)
        return answer

    async def counters(self) -> tuple[int, int]:
        answers = await asyncio.gather(*(self._ask(process, {}) for process in self.processes))
        return sum(a["packets"] for a in answers), sum(a["frames"] for a in answers)

    async def close(self) -> None:
        for process in self.processes:
            if process.returncode is None and process.stdin is not None:
                process.stdin.write(b'{"quit": true}\n')
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def _cluster_redis_url() -> str:
    return os.environ.get("AURALINK_CLUSTER_REDIS_URL") or os.environ.get("AURALINK_REDIS_URL") or DEFAULT_REDIS


async def _measure_cluster(options: BenchOptions) -> SuiteResult:
    """``options.workers`` engine processes behind a front (this process), rooms of :data:`PER_ROOM` publishers."""
    from pipeline.cluster.front import Front, create_front_app
    from pipeline.cluster.registry import ClusterRegistry, ClusterUnavailableError

    apply_host_addresses(["127.0.0.1"])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secret, redis_url = secrets.token_urlsafe(32), _cluster_redis_url()
    key_prefix = f"auralink-bench-{secrets.token_hex(4)}:"
    registry = ClusterRegistry.from_url(redis_url, key_prefix)
    try:
        await registry.check()
    except ClusterUnavailableError as error:
        raise RuntimeError(
            f"--workers needs Redis (AURALINK_CLUSTER_REDIS_URL or AURALINK_REDIS_URL): {error}"
        ) from None
    workers = await WorkerProcesses.start(options.workers, redis_url, key_prefix, secret)
    try:
        while sum(w.state == "serving" for w in await registry.workers()) < options.workers:
            if any(process.returncode is not None for process in workers.processes):
                raise RuntimeError("an engine worker exited before it joined the cluster")
            await asyncio.sleep(0.2)
        async with serving(create_front_app(Front(registry, secret))) as url:
            load = await LoadProcess.start(url, secret, per_room=PER_ROOM)
            try:
                steps = await _ramp(workers, load, options)
            finally:
                await load.close()
    finally:
        await workers.close()
        keys = [key async for key in registry.client.scan_iter(f"{key_prefix}*")]
        if keys:
            await registry.client.delete(*keys)
        await registry.aclose()
    return _result([], steps, workers=options.workers)


def _result(joins: list[float], steps: list[Step], workers: int) -> SuiteResult:
    sustained = list(itertools.takewhile(Step.holds, steps))
    best = sustained[-1] if sustained else None
    measured = best or steps[0]  # the CPU a participant costs is measured even where none was sustained
    per_participant = measured.engine_cpu_cores / measured.participants
    figures = [
        Figure("join_p50_ms", float(np.percentile(joins, 50)), "ms", "lower", 0.5, target=300.0,
               note="offer received -> first audio frame in the participant's graph, loopback"),
        Figure("join_p95_ms", float(np.percentile(joins, 95)), "ms", "lower", 0.5),
    ] if joins else []  # fmt: skip
    cores = psutil.cpu_count() or 1
    figures += [
        Figure("sustained_participants", float(best.participants if best else 0), "participants", "higher", 0.2,
               target=50.0,
               note=f"largest step before the first with >= {MAX_DROPPED:.0%} of received frames dropped in the "
                    f"engine or publishers that sent under {1 - MAX_DROPPED:.0%} of real time"),
        Figure("engine_cpu_per_participant_pct", 100 * per_participant, "% of a core", "lower", 0.3,
               target=TARGET_CPU_PER_PARTICIPANT_PCT,
               note=f"CPU time (user + system) of {workers} engine process(es) / participants at "
                    f"{measured.participants}, not wall time"),
        Figure("projected_participants_engine_alone", float(int(0.8 * cores / per_participant)),
               "participants", "info",
               note=f"80 % of {cores} cores / engine CPU per participant: a projection, not a measurement"),
        Figure("projected_participants_16_cores", float(int(0.8 * 16 / per_participant)), "participants", "info",
               note="80 % of 16 cores (one engine worker per core) / engine CPU per participant: a projection"),
    ]  # fmt: skip
    for step in steps:
        figures.append(Figure(f"dropped_at_{step.participants}", step.dropped_fraction, "ratio", "info"))
        figures.append(Figure(f"shortfall_at_{step.participants}", step.shortfall_fraction, "ratio", "info"))
        figures.append(Figure(f"engine_cpu_at_{step.participants}", step.engine_cpu_cores, "cores", "info"))
        figures.append(Figure(f"load_cpu_at_{step.participants}", step.load_cpu_cores, "cores", "info"))
        figures.append(Figure(f"paced_at_{step.participants}", step.paced_fraction, "ratio", "info"))
        figures.append(Figure(f"machine_busy_at_{step.participants}", step.machine_cpu_busy, "ratio", "info"))
    figures.append(
        Figure("load_average_1min", os.getloadavg()[0], "processes", "info",
               note="at the end of the ramp, this run's own processes included (about 2 at the top step)")
    )  # fmt: skip
    result = SuiteResult("calls", figures)
    limited = next((step for step in steps if not step.holds()), None)
    if limited is not None and limited.paced_fraction < 1 - MAX_DROPPED:
        result.notes.append(
            f"at {limited.participants} the publishers sent {limited.paced_fraction:.1%} of real time "
            f"({limited.load_cpu_cores:.2f} cores; the engine dropped {limited.dropped_fraction:.2%}): the "
            f"publishers fell behind (a load generator short of CPU, on a machine "
            f"{limited.machine_cpu_busy:.0%} busy), not the engine, set the limit here"
        )
    if workers > 1:
        result.notes.append(
            f"{workers} engine workers behind a front (this process) on Redis; WHIP publishers in rooms of "
            f"{PER_ROOM}, which the front places on the least-loaded worker"
        )
    result.notes.append(
        "the publishers (pre-encoded Opus packets on one pacing clock, SRTP) run in a second process on the same "
        "cores: load_cpu_at_N is what they took"
    )
    return result


@register_suite("calls")
def calls_suite(options: BenchOptions) -> SuiteResult:
    started = time.perf_counter()
    result = asyncio.run(_measure_cluster(options) if options.workers > 1 else _measure(options))
    result.notes.append(f"suite took {time.perf_counter() - started:.1f} s")
    return stamp(result, "aiortc", "av")
