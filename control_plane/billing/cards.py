"""Card entry: a SetupIntent that Stripe.js confirms with the card typed (``confirmCardSetup``), then that card
made the customer's default payment method — the card number never reaches AuraLink."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from control_plane.audit.service import record
from control_plane.billing.faults import BillingNotConfigured, stripe_call
from control_plane.billing.service import customer_of, subscription_of, use_payment_method
from control_plane.billing.stripe_gateway import StripeGateway
from control_plane.domain_errors import Conflict, InvalidInput
from control_plane.principals import Tenant


def start_setup(db: Session, tenant: Tenant, gateway: StripeGateway | None) -> str:
    """The client secret of a new SetupIntent for the organisation's customer (created the first time)."""
    if gateway is None:
        raise BillingNotConfigured("card entry")
    customer_id = customer_of(db, tenant.audit, gateway, subscription_of(db, tenant.organization_id))
    with stripe_call("preparing card entry"):
        return str(gateway.create_setup_intent(customer_id)["client_secret"])


def save_card(db: Session, tenant: Tenant, gateway: StripeGateway | None, setup_intent_id: str) -> dict[str, Any]:
    """Make the card of a confirmed SetupIntent of this organisation's customer its default payment method."""
    if gateway is None:
        raise BillingNotConfigured("card entry")
    row = subscription_of(db, tenant.organization_id)
    if not setup_intent_id.startswith("seti_") or row.stripe_customer_id is None:
        raise InvalidInput("the card was not set up: enter it again")
    with stripe_call("reading the card setup"):
        intent = gateway.setup_intent(setup_intent_id)
    if intent.get("customer") != row.stripe_customer_id:
        raise InvalidInput("the card was not set up: enter it again")  # another customer's: say nothing of it
    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        raise Conflict(f"Stripe has not confirmed the card (the setup is {intent.get('status')}): enter it again")
    use_payment_method(gateway, row.stripe_customer_id, str(intent["payment_method"]))
    with stripe_call("reading the card"):
        card = gateway.default_card(row.stripe_customer_id) or {}
    after = {"brand": card.get("brand"), "last4": card.get("last4"), "setup_intent": setup_intent_id}
    record(db, tenant.audit, tenant.organization_id, "billing.payment_method.update", row, after=after)
    db.commit()
    return card


def card_on_file(db: Session, organization_id: int, gateway: StripeGateway | None) -> dict[str, Any] | None:
    """The default card of the organisation's customer (``None`` without Stripe or a customer)."""
    customer_id = subscription_of(db, organization_id).stripe_customer_id
    if gateway is None or customer_id is None:
        return None
    with stripe_call("reading the card"):
        return gateway.default_card(customer_id)
