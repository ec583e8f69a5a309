"""The engine's reporter to the control plane: gRPC, with a durable journal in between.

``report`` only puts the record on an in-memory queue. One sender thread moves queued
records into the journal (:mod:`telemetry.journal`), then sends the oldest
journaled records in batches and deletes them once acknowledged. While the control
plane is unreachable the journal grows and the sender retries with backoff; on the
next start a reporter with the same journal replays what is left. The control plane
stores each record once by its idempotency key, so a batch resent after a lost
acknowledgement is not counted twice.

Live records (``report_live``: pipeline stats, captions) skip the journal: they wait in a small bounded
buffer that drops the oldest, and go out in one ``LiveTelemetry.ReportLive`` call each time the sender
wakes, at most once; a failed call drops them. What is live is worth nothing a minute later.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import deque
from pathlib import Path

import grpc
import structlog

from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from telemetry.journal import TelemetryJournal
from telemetry.live_wire import live_to_proto
from telemetry.records import LiveRecord, TelemetryRecord
from telemetry.wire import to_proto

log = structlog.get_logger(__name__)

JOURNAL_FILE = "telemetry-journal.sqlite3"
LIVE_BUFFER = 500
"""Live records waiting to be sent; beyond this the oldest are dropped."""
LIVE_EVERY_S = 0.5
"""Live records go out at most this often, together (at most 120 calls a minute, whatever the rooms)."""
_RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,  # a key may be fixed without restarting the engine
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
}


class GrpcTelemetryReporter:
    """A :class:`telemetry.records.TelemetryReporter` that delivers to the control plane's gRPC service."""

    def __init__(
        self,
        target: str,
        api_key: str,
        journal_path: Path,
        *,
        batch_size: int = 500,
        rpc_timeout_s: float = 5.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.target = target
        self.journal = TelemetryJournal(journal_path)
        self.batch_size = batch_size
        self.rpc_timeout_s = rpc_timeout_s
        self.max_backoff_s = max_backoff_s
        self.delivered = 0
        self.live_sent = 0
        self.live_dropped = 0
        self._live: deque[LiveRecord] = deque()
        self._live_lock = threading.Lock()
        self._live_sent_at = 0.0
        self._metadata = (("authorization", f"Bearer {api_key}"),)
        self._queue: queue.SimpleQueue[TelemetryRecord] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._channel = grpc.insecure_channel(target)
        self._stub = pb_grpc.TelemetryStub(self._channel)
        self._live_stub = pb_grpc.LiveTelemetryStub(self._channel)
        self._thread = threading.Thread(target=self._run, name="telemetry-sender", daemon=True)
        self._thread.start()

    def report(self, record: TelemetryRecord) -> None:
        self._queue.put(record)
        self._wake.set()

    def report_live(self, record: LiveRecord) -> None:
        with self._live_lock:
            if len(self._live) >= LIVE_BUFFER:
                self._live.popleft()
                self.live_dropped += 1
            self._live.append(record)

    def pending(self) -> int:
        """Records not yet acknowledged (queued or journaled)."""
        return self._queue.qsize() + self.journal.pending_count()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything reported so far is acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline:
            if not self._queue.empty():
                self._wake.set()
            time.sleep(0.02)
        return self.pending() == 0

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Try to deliver what is pending for up to ``timeout_s``; whatever remains stays in the journal."""
        await asyncio.to_thread(self.flush, timeout_s)
        self._stopping.set()
        self._wake.set()
        await asyncio.to_thread(self._thread.join)
        self._channel.close()
        self.journal.close()

    def _run(self) -> None:
        backoff, tried_at = 0.0, 0.0
        while True:
            # woken by a report, or every LIVE_EVERY_S for the live buffer; the journal keeps its own backoff
            woken = self._wake.wait(timeout=min(backoff or 1.0, LIVE_EVERY_S))
            self._wake.clear()
            self._persist_queue()
            if self._stopping.is_set():
                return
            self._send_live()
            if woken or time.monotonic() - tried_at >= (backoff or 1.0):
                tried_at = time.monotonic()
                backoff = 0.0 if self._send_pending() else min(max(backoff * 2, 0.1), self.max_backoff_s)

    def _persist_queue(self) -> None:
        records = []
        while True:
            try:
                records.append(to_proto(self._queue.get_nowait()).SerializeToString())
            except queue.Empty:
                break
        self.journal.append(records)

    def _send_live(self) -> None:
        """Send the buffered live records once, whatever happens (they are worth nothing later)."""
        if time.monotonic() - self._live_sent_at < LIVE_EVERY_S:
            return
        self._live_sent_at = time.monotonic()
        with self._live_lock:
            records, self._live = list(self._live), deque()
        if not records:
            return
        request = pb.LiveReportRequest(records=[live_to_proto(record) for record in records])
        try:
            response = self._live_stub.ReportLive(request, timeout=self.rpc_timeout_s, metadata=self._metadata)
        except grpc.RpcError as error:
            self.live_dropped += len(records)
            log.debug("live telemetry dropped", target=self.target, status=error.code().name, count=len(records))
            return
        self.live_sent += response.accepted
        if response.rejected:
            log.warning(
                "control plane refused live records", count=len(response.rejected), first=response.rejected[0].reason
            )

    def _send_pending(self) -> bool:
        """Send journaled batches until none is left; False when the control plane did not take one."""
        while not self._stopping.is_set():
            rows = self.journal.oldest(self.batch_size)
            if not rows:
                return True
            request = pb.ReportRequest(records=[pb.TelemetryRecord.FromString(record) for _, record in rows])
            try:
                response = self._stub.Report(request, timeout=self.rpc_timeout_s, metadata=self._metadata)
                refused = [(rows[r.index][0], rows[r.index][1], r.reason) for r in response.rejected]
            except grpc.RpcError as error:
                code = error.code()
                if code in _RETRYABLE:
                    log.info("telemetry delivery deferred", target=self.target, status=code.name, pending=len(rows))
                    return False
                refused = [(seq, record, f"{code.name}: {error.details()}") for seq, record in rows]
            if refused:
                log.error("control plane refused telemetry records", count=len(refused), first=refused[0][2])
                self.journal.set_aside(refused)
            self.journal.acknowledge(rows[-1][0])
            self.delivered += len(rows)
            self._persist_queue()
        return True


def reporter_from_settings(target: str, api_key: str, data_dir: Path) -> GrpcTelemetryReporter:
    """The reporter an engine process uses (``telemetry_target``, ``telemetry_api_key``, ``data_dir``)."""
    return GrpcTelemetryReporter(target, api_key, data_dir / JOURNAL_FILE)
