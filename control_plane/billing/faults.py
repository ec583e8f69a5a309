"""The one place where Stripe's failures become HTTP answers.

Stripe unreachable or slow: 503 with ``Retry-After``; Stripe erroring (5xx) or refusing a
request of ours: 502 with ``Retry-After``; rate limited: 503 with a longer ``Retry-After``; a
card declined: 402 with Stripe's own message. Every message says that Stripe failed and that
a retry is safe (nothing is billed twice: see ``overage.py`` and ``service.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import stripe
from litestar.exceptions import ClientException, HTTPException

RETRY_AFTER_S = 30
RATE_LIMIT_RETRY_AFTER_S = 60
_RETRY = "nothing was half-done: retry the same request"


class PaymentRequired(ClientException):
    status_code = 402


class BillingNotConfigured(HTTPException):
    """Paid plans need Stripe: the message names the setting to set."""

    status_code = 503

    def __init__(self, what: str, setting: str = "stripe_api_key") -> None:
        super().__init__(
            detail=f"billing is not configured: {what} needs Stripe; set {setting} (AURALINK_{setting.upper()})"
        )


class StripeUnavailable(HTTPException):
    """Stripe could not be used right now; ``Retry-After`` says when to try again."""

    def __init__(self, status_code: int, detail: str, retry_after_s: int) -> None:
        super().__init__(status_code=status_code, detail=detail, headers={"Retry-After": str(retry_after_s)})


def http_error(error: stripe.StripeError, doing: str) -> HTTPException:
    """The HTTP answer for ``error``, raised by Stripe while ``doing`` something."""
    if isinstance(error, stripe.CardError):
        return PaymentRequired(f"the card was declined while {doing}: {error.user_message or 'no reason given'}")
    if isinstance(error, stripe.RateLimitError):
        return StripeUnavailable(
            503, f"Stripe is rate limiting us while {doing}; {_RETRY} later", RATE_LIMIT_RETRY_AFTER_S
        )
    if isinstance(error, stripe.APIConnectionError):
        return StripeUnavailable(
            503, f"Stripe could not be reached or did not answer in time while {doing}; {_RETRY}", RETRY_AFTER_S
        )
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return StripeUnavailable(
            503, f"Stripe refused our API key while {doing}: check stripe_api_key; {_RETRY} once fixed", RETRY_AFTER_S
        )
    status = error.http_status or 0
    reason = (error.user_message or str(error) or "no message").splitlines()[0][:200]
    return StripeUnavailable(502, f"Stripe failed (HTTP {status}: {reason}) while {doing}; {_RETRY}", RETRY_AFTER_S)


@contextlib.contextmanager
def stripe_call(doing: str) -> Iterator[None]:
    """Turn any Stripe error raised inside into its HTTP answer (see :func:`http_error`)."""
    try:
        yield
    except stripe.StripeError as error:
        raise http_error(error, doing) from error


def short(error: stripe.StripeError) -> str:
    """A one-line description of ``error`` to keep on a pending row."""
    return f"{type(error).__name__}: {(str(error) or 'no message').splitlines()[0]}"[:500]
