"""The control plane's one error tree: what went wrong, in the domain's words, with no HTTP in it.

Services, jobs and stores raise these; :mod:`control_plane.errors` maps each class to its HTTP
status once (and nothing else does). The tree has two kinds:

- :class:`ClientError`: the request cannot be done as asked (bad input, not allowed, missing, in
  conflict …); the client should change the request. Always a 4xx.
- :class:`UpstreamError`: something the control plane depends on (Stripe, the engine, a missing
  setting) failed or is unavailable; the same request may work later. Always a 5xx.
- :class:`Internal`: the control plane's own data failed a check (a ciphertext that does not
  authenticate); nothing is returned in its place. A 500.

Every error carries a human message (its ``str``), optionally ``retry_after_s`` (answered as
``Retry-After``) and ``extra`` (structured detail answered next to the message).
"""

# The leaves are named for what happened, as HTTP names its statuses (NotFound, Conflict), not "…Error".
# ruff: noqa: N818

from __future__ import annotations

import math
from typing import Any


class ControlPlaneError(Exception):
    """Something the control plane refuses or cannot do; the message says what and why."""

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, extra: dict[str, Any] | list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries (``Retry-After`` in whole seconds, rounded up, when known)."""
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": str(max(math.ceil(self.retry_after_s), 0))}


class ClientError(ControlPlaneError):
    """The request cannot be done as asked: the caller has to change something."""


class InvalidInput(ClientError):
    """A value the request gave is not acceptable (a period that has not ended, a date in the past …)."""


class Unprocessable(InvalidInput):
    """The request is well-formed but its content does not validate (an agent's pipeline, say)."""


class Unauthenticated(ClientError):
    """Who is calling is unknown, or they proved it wrongly (a wrong password)."""


class PaymentRequired(ClientError):
    """The plan needs a working payment method (a card declined, none given)."""


class Forbidden(ClientError):
    """The caller is known but may not do this."""


class NotFound(ClientError):
    """The thing named does not exist (or is not the caller's to see)."""


class Conflict(ClientError):
    """The request conflicts with the present state (a name in use, a limit reached, already done)."""


class Gone(ClientError):
    """The thing existed but is no longer kept (an expired export link)."""


class TooManyRequests(ClientError):
    """The caller is over a rate limit; ``retry_after_s`` says when the budget refills."""


class UpstreamError(ControlPlaneError):
    """Something the control plane depends on failed: the same request may work later."""


class UpstreamUnavailable(UpstreamError):
    """A dependency cannot be reached or used right now (Stripe unreachable, rate limiting us)."""


class NotConfigured(UpstreamUnavailable):
    """A feature needs a setting that this deployment has not set; the message names it."""


class UpstreamFailed(UpstreamError):
    """A dependency answered, but with a failure (Stripe erroring, the engine refusing)."""


class Internal(ControlPlaneError):
    """The control plane's own data failed a check; nothing was returned in its place."""
