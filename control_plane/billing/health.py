"""The readiness check of Stripe: a cheap authenticated call, timed."""

from __future__ import annotations

import time

import stripe

from control_plane.billing.faults import short
from control_plane.billing.stripe_gateway import gateway_for
from control_plane.health.schemas import Check
from settings import ControlPlaneSettings


def stripe_check(settings: ControlPlaneSettings) -> Check:
    """``not configured`` without a key; else the account balance is read (failing → readiness 503)."""
    gateway = gateway_for(settings)
    if gateway is None:
        return Check(status="not configured", detail="stripe_api_key is unset: paid plans are off")
    started = time.perf_counter()
    try:
        ok, detail = gateway.ping(), ""
    except stripe.StripeError as error:
        ok, detail = False, short(error)
    latency = round((time.perf_counter() - started) * 1000, 3)
    return Check(status="ok" if ok else "failing", latency_ms=latency, detail=detail)
