"""The one place where Stripe's failures become domain errors (answered as HTTP by ``control_plane.errors``).

Stripe unreachable or slow: 503 with ``Retry-After``; Stripe erroring (5xx) or refusing a
request of ours: 502 with ``Retry-After``; rate limited: 503 with a longer ``Retry-After``; a
card declined: 402 with Stripe's own message. Every message says that Stripe failed and that
a retry is safe (nothing is billed twice: see ``overage.py`` and ``service.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import stripe

from control_plane.domain_errors import (
    ControlPlaneError,
    NotConfigured,
    PaymentRequired,
    UpstreamFailed,
    UpstreamUnavailable,
)

RETRY_AFTER_S = 30
RATE_LIMIT_RETRY_AFTER_S = 60
_RETRY = "nothing was half-done: retry the same request"


class BillingNotConfigured(NotConfigured):
    """Paid plans need Stripe (503): the message names the setting to set."""

    def __init__(self, what: str, setting: str = "stripe_api_key") -> None:
        super().__init__(f"billing is not configured: {what} needs Stripe; set {setting} (AURALINK_{setting.upper()})")


def stripe_failure(error: stripe.StripeError, doing: str) -> ControlPlaneError:
    """The domain error for ``error``, raised by Stripe while ``doing`` something.

    ``retry_after_s`` (``Retry-After``) says when to try again."""
    if isinstance(error, stripe.CardError):
        return PaymentRequired(f"the card was declined while {doing}: {error.user_message or 'no reason given'}")
    if isinstance(error, stripe.RateLimitError):
        return UpstreamUnavailable(
            f"Stripe is rate limiting us while {doing}; {_RETRY} later", retry_after_s=RATE_LIMIT_RETRY_AFTER_S
        )
    if isinstance(error, stripe.APIConnectionError):
        return UpstreamUnavailable(
            f"Stripe could not be reached or did not answer in time while {doing}; {_RETRY}",
            retry_after_s=RETRY_AFTER_S,
        )
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return UpstreamUnavailable(
            f"Stripe refused our API key while {doing}: check stripe_api_key; {_RETRY} once fixed",
            retry_after_s=RETRY_AFTER_S,
        )
    status = error.http_status or 0
    reason = (error.user_message or str(error) or "no message").splitlines()[0][:200]
    return UpstreamFailed(
        f"Stripe failed (HTTP {status}: {reason}) while {doing}; {_RETRY}", retry_after_s=RETRY_AFTER_S
    )


@contextlib.contextmanager
def stripe_call(doing: str) -> Iterator[None]:
    """Turn any Stripe error raised inside into its domain error (see :func:`stripe_failure`)."""
    try:
        yield
    except stripe.StripeError as error:
        raise stripe_failure(error, doing) from error


def short(error: stripe.StripeError) -> str:
    """A one-line description of ``error`` to keep on a pending row."""
    return f"{type(error).__name__}: {(str(error) or 'no message').splitlines()[0]}"[:500]
