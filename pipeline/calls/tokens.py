"""Join tokens: short-lived, signed permission to enter one room as one identity.

A token is a JWT (HS256) with the claims ``room``, ``sub`` (the identity),
``grants`` (what the holder may do there), ``iat`` and ``exp``. The engine
verifies it on every join; the control plane and ``auralink token`` mint them
with the same secret. Clients send it as ``Authorization: Bearer <token>``, as
WHIP (RFC 9725) prescribes.
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass

import jwt

from settings.join_secret import MIN_SECRET_BYTES

ALGORITHM = "HS256"
MAX_TTL_S = 24 * 3600


class Grant(enum.StrEnum):
    """What a token lets its holder do in its room."""

    PUBLISH = "publish"
    """Send media into the room."""
    SUBSCRIBE = "subscribe"
    """Receive the other participants' media."""
    DATA = "data"
    """Send and receive data-channel messages (captions, events)."""
    AGENT = "agent"
    """Start a server-side participant that runs a pipeline in the room."""


class TokenError(Exception):
    """The token cannot be used; the message says why (expired, forged, malformed …)."""


@dataclass(frozen=True, slots=True)
class JoinClaims:
    room: str
    identity: str
    grants: frozenset[Grant]
    expires_at: float

    def allows(self, grant: Grant) -> bool:
        return grant in self.grants


ROOM_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
ROOM_NAME_RULE = "a room name is 1 to 64 letters, digits, '_', '.' or '-'"
"""What :data:`ROOM_NAME` asks of a room's name, in words: the engine's rooms and every token minted for one."""


def mint_join_token(
    secret: str,
    room: str,
    identity: str,
    grants: frozenset[Grant] | set[Grant] = frozenset({Grant.PUBLISH, Grant.SUBSCRIBE, Grant.DATA}),
    ttl_s: float = 600.0,
    now: float | None = None,
) -> str:
    """A signed token for ``identity`` in ``room``, valid for ``ttl_s`` seconds."""
    _check_secret(secret)
    if not room or not identity:
        raise TokenError("a join token needs a room and an identity")
    if not ROOM_NAME.fullmatch(room):
        raise TokenError(f"{ROOM_NAME_RULE}, not {room[:80]!r}")
    if not 0 < ttl_s <= MAX_TTL_S:
        raise TokenError(f"ttl must be between 1 s and {MAX_TTL_S} s, got {ttl_s:g}")
    issued = time.time() if now is None else now
    claims = {
        "room": room,
        "sub": identity,
        "grants": sorted(grant.value for grant in grants),
        "iat": int(issued),
        "exp": int(issued + ttl_s),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_join_token(secret: str, token: str, leeway_s: float = 5.0) -> JoinClaims:
    """The claims of a valid token; :class:`TokenError` for anything else."""
    _check_secret(secret)
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            leeway=leeway_s,
            options={"require": ["exp", "iat", "sub", "room", "grants"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("join token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError(
            "the join token was signed with a different secret than this server's: mint tokens with the same"
            " join_token_secret (or the same data_dir; `auralink config` shows both)"
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise TokenError(f"join token lacks the {error.claim!r} claim") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"malformed join token: {error}") from None
    return JoinClaims(
        room=_text_claim(claims, "room"),
        identity=_text_claim(claims, "sub"),
        grants=_grants(claims["grants"]),
        expires_at=float(claims["exp"]),
    )


def _text_claim(claims: dict[str, object], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value:
        raise TokenError(f"join token claim {name!r} must be a non-empty string")
    return value


def _grants(raw: object) -> frozenset[Grant]:
    if not isinstance(raw, list):
        raise TokenError("join token claim 'grants' must be a list")
    try:
        return frozenset(Grant(item) for item in raw)
    except ValueError:
        known = ", ".join(grant.value for grant in Grant)
        raise TokenError(f"join token has an unknown grant in {raw!r} (known: {known})") from None


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise TokenError(f"the join-token secret must be at least {MIN_SECRET_BYTES} bytes")
