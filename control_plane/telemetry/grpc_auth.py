"""Who is calling the gRPC telemetry services: an API key with the "telemetry" scope, within its rate limit."""

from __future__ import annotations

import grpc

from control_plane.auth.permissions import Permission
from control_plane.auth.service import find_api_key, key_principal, note_key_use
from control_plane.state import AppState


def authorised_organization(state: AppState, context: grpc.ServicerContext, budget: str = "key") -> int:
    """The organisation of the caller's API key; aborts the call unless it may report telemetry now.

    ``budget`` names the key's rate-limit bucket: live reports have their own (``live-key``), so that they can
    never use up what the key may send of the records that are stored."""
    metadata = dict(context.invocation_metadata())
    scheme, _, key = str(metadata.get("authorization", "")).partition(" ")
    if scheme.lower() != "bearer" or not key:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "send metadata 'authorization: Bearer <API key>'")
    with state.session() as db:
        row = find_api_key(db, key.strip())
        if row is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown, revoked or expired API key")
        assert row is not None
        if Permission.REPORT_TELEMETRY not in key_principal(db, row).permissions_in(row.organization_id):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "this API key lacks the 'telemetry' scope")
        if state.limiter.retry_after(f"{budget}:{row.id}", row.requests_per_minute) is not None:
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"API key {row.prefix} is limited to {row.requests_per_minute}/min",
            )
        note_key_use(db, row)
        return row.organization_id
