"""What billing tests hand localstripe and the webhook endpoint: card payment methods and signed Stripe events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import stripe

API_KEY = "sk_test_auralink_billing"
WEBHOOK_SECRET = "whsec_test_auralink_billing"


def card(client: stripe.StripeClient, number: str = "4242424242424242") -> str:
    """A new card payment method in localstripe (what Stripe.js hands the browser)."""
    params: Any = {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}}
    return str(client.v1.payment_methods.create(params=params).id)


def signed(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """``event`` as Stripe sends it: the JSON body and its Stripe-Signature header."""
    payload = json.dumps(event).encode()
    timestamp = int(at if at is not None else time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}
