"""Who is calling and in which organisation, read from the request (the types: `control_plane.principals`)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.domain_errors import Forbidden
from control_plane.principals import AuditContext, Principal, Tenant

AnyConnection = ASGIConnection[Any, Any, Any, Any]
AnyRequest = Request[Any, Any, Any]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def principal_of(connection: AnyConnection) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Forbidden("this route needs a signed-in user or an API key")
    return user


def acting_organization(connection: AnyConnection) -> int:
    principal = principal_of(connection)
    named = connection.path_params.get("organization_id")
    organization_id = named if isinstance(named, int) else principal.organization_id
    if organization_id is None:
        raise Forbidden("create or join an organisation first (POST /organizations)")
    return organization_id


def audit_context(request: AnyRequest) -> AuditContext:
    principal = request.scope.get("user")
    return AuditContext(
        actor_user_id=principal.user_id if isinstance(principal, Principal) else None,
        actor_api_key_id=principal.api_key_id if isinstance(principal, Principal) else None,
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:500],
        request_id=str(request.scope.get("state", {}).get("request_id", "")),
    )


def provide_tenant(request: AnyRequest) -> Tenant:
    """The ``tenant`` dependency (the route's guard has already checked the permission)."""
    return Tenant(acting_organization(request), principal_of(request), audit_context(request))


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (the caller's ``X-Request-ID`` when well-formed) and echo it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # the scope type is a StrEnum
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware
