"""The gRPC telemetry service (``protos/telemetry.proto``), run beside the HTTP app.

A plain thread-pool gRPC server: each batch is stored with a blocking database session,
so it runs on a worker thread, never on the HTTP app's event loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import grpc
import structlog
from sqlalchemy.exc import SQLAlchemyError

from control_plane.state import AppState
from control_plane.telemetry.grpc_auth import authorised_organization
from control_plane.telemetry.live_grpc import LiveTelemetryService
from control_plane.telemetry.service import ingest, publish
from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from telemetry.records import TelemetryRecord
from telemetry.wire import WireError, from_proto

log = structlog.get_logger(__name__)
MAX_BATCH = 5000


class TelemetryService(pb_grpc.TelemetryServicer):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def Report(self, request: pb.ReportRequest, context: grpc.ServicerContext) -> pb.ReportResponse:  # noqa: N802
        if len(request.records) > MAX_BATCH:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"a batch holds at most {MAX_BATCH} records")
        try:
            organization_id = authorised_organization(self.state, context)
        except SQLAlchemyError as error:
            self._unavailable(context, error)
        records: list[TelemetryRecord] = []
        rejected = []
        for index, message in enumerate(request.records):
            try:
                records.append(from_proto(message))
            except WireError as error:
                rejected.append(pb.Rejection(index=index, reason=str(error)))
        try:
            with self.state.session() as db:
                result = ingest(db, organization_id, records)
        except SQLAlchemyError as error:
            self._unavailable(context, error)
        publish(result, self.state.realtime)
        return pb.ReportResponse(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)

    @staticmethod
    def _unavailable(context: grpc.ServicerContext, error: SQLAlchemyError) -> NoReturn:
        """The database is down or too slow: the engine keeps the batch in its journal and sends it again."""
        log.error("telemetry batch not stored", error=str(error).splitlines()[0][:200])
        context.abort(grpc.StatusCode.UNAVAILABLE, "the control plane could not store the batch; send it again")


class TelemetryServer:
    """Starts on ``host:port`` (0 = any free port; :attr:`port` says which) and stops gracefully."""

    def __init__(self, state: AppState, host: str, port: int, workers: int = 4) -> None:
        # Batches beyond twice the workers are refused (RESOURCE_EXHAUSTED) rather than queued without bound:
        # while the database is slow the engines keep them in their journals and back off.
        self.server = grpc.server(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="telemetry"),
            maximum_concurrent_rpcs=2 * workers,
        )
        pb_grpc.add_TelemetryServicer_to_server(TelemetryService(state), self.server)
        pb_grpc.add_LiveTelemetryServicer_to_server(LiveTelemetryService(state), self.server)
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise OSError(f"cannot listen for gRPC telemetry on {host}:{port}")

    def start(self) -> None:
        self.server.start()
        log.info("telemetry gRPC listening", port=self.port)

    def stop(self, grace_s: float = 2.0) -> None:
        self.server.stop(grace_s).wait()
