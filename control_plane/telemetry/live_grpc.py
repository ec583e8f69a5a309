"""``LiveTelemetry.ReportLive``: engines' live pipeline stats and captions into the live store (never the database)."""

from __future__ import annotations

import grpc
from sqlalchemy.exc import SQLAlchemyError

from control_plane.state import AppState
from control_plane.telemetry.grpc_auth import authorised_organization
from protos.gen import telemetry_pb2 as pb
from protos.gen import telemetry_pb2_grpc as pb_grpc
from telemetry.live_wire import live_from_proto
from telemetry.records import LiveRecord
from telemetry.wire import WireError

MAX_LIVE_BATCH = 1000


class LiveTelemetryService(pb_grpc.LiveTelemetryServicer):
    def __init__(self, state: AppState) -> None:
        self.state = state

    def ReportLive(self, request: pb.LiveReportRequest, context: grpc.ServicerContext) -> pb.LiveReportResponse:  # noqa: N802
        if len(request.records) > MAX_LIVE_BATCH:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"a live batch holds at most {MAX_LIVE_BATCH} records")
        try:
            organization_id = authorised_organization(self.state, context, budget="live-key")
        except SQLAlchemyError:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the control plane cannot check API keys now")
        records: list[LiveRecord] = []
        rejected = []
        for index, message in enumerate(request.records):
            try:
                records.append(live_from_proto(message))
            except WireError as error:
                rejected.append(pb.Rejection(index=index, reason=str(error)))
        self.state.live.add(organization_id, records)
        return pb.LiveReportResponse(accepted=len(records), rejected=rejected)
