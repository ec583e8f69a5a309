"""Stripe webhooks: the signature checked, each event processed once, its effect audited as the system's.

Handled: ``invoice.paid``, ``invoice.payment_failed``, ``customer.subscription.updated`` and
``customer.subscription.deleted``. Any other type is acknowledged and recorded, so Stripe stops
sending it. The processed-event row and the event's effect commit together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import stripe
from sqlmodel import Session, select

from control_plane.audit.service import record, snapshot
from control_plane.billing import invoices
from control_plane.billing.models import StripeEvent, Subscription
from control_plane.billing.plans import CATALOGUE, PlanName
from control_plane.billing.schemas import WebhookAck
from control_plane.billing.service import ended, keep_organization_in_step, mirror, terms_of
from control_plane.db.types import utcnow
from control_plane.domain_errors import InvalidInput
from control_plane.principals import AuditContext


class BadWebhook(InvalidInput):
    """400: the request is not a genuine, fresh Stripe event."""


def verify(payload: bytes, signature: str | None, secret: str, tolerance_s: int) -> dict[str, Any]:
    """The event in ``payload`` if ``signature`` (the Stripe-Signature header) proves Stripe sent it lately."""
    if not signature:
        raise BadWebhook("missing Stripe-Signature header: this endpoint only accepts events signed by Stripe")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance_s)
        event = json.loads(text)
    except stripe.SignatureVerificationError as error:
        raise BadWebhook(f"the Stripe signature does not verify: {error.user_message or error}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadWebhook(f"the event is not JSON: {error}") from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise BadWebhook("the event has no id or type")
    return event


def handle(db: Session, audit: AuditContext, event: dict[str, Any]) -> WebhookAck:
    """Apply ``event`` once: a duplicate id is acknowledged and ignored."""
    if db.get(StripeEvent, event["id"]) is not None:
        return WebhookAck(received=True, duplicate=True)
    data = (event.get("data") or {}).get("object") or {}
    handler = HANDLERS.get(event["type"])
    organization_id = None
    if handler is not None and isinstance(data, dict):
        organization_id = handler(db, audit, data | {_EVENT_CREATED: event.get("created")})
    db.add(StripeEvent(id=event["id"], type=event["type"][:100], organization_id=organization_id))
    db.commit()
    return WebhookAck(received=True, handled=organization_id is not None)


_EVENT_CREATED = "_auralink_event_created"


def _stale(row: Subscription, data: dict[str, Any]) -> bool:
    """Whether the event was created before our last change of ``row`` (Stripe does not keep order)."""
    created = data.get(_EVENT_CREATED)
    return isinstance(created, int | float) and created < int(row.updated_at.timestamp())


def _subscription_row(db: Session, subscription_id: Any, customer_id: Any) -> Subscription | None:
    if subscription_id:
        found = db.exec(select(Subscription).where(Subscription.stripe_subscription_id == str(subscription_id))).first()
        if found is not None:
            return found
    if customer_id:
        return db.exec(select(Subscription).where(Subscription.stripe_customer_id == str(customer_id))).first()
    return None


def _invoice_paid(db: Session, audit: AuditContext, data: dict[str, Any]) -> int | None:
    return _invoice_event(db, audit, data, failed=False)


def _invoice_failed(db: Session, audit: AuditContext, data: dict[str, Any]) -> int | None:
    return _invoice_event(db, audit, data, failed=True)


def _invoice_event(db: Session, audit: AuditContext, data: dict[str, Any], failed: bool) -> int | None:
    row = _subscription_row(db, None, data.get("customer"))
    if row is None or "id" not in data:
        return None
    invoice = invoices.store(db, row.organization_id, data, payment_failed=failed)
    action = "billing.invoice.payment_failed" if failed else "billing.invoice.paid"
    record(db, audit, row.organization_id, action, invoice, after=snapshot(invoice))
    return row.organization_id


def _subscription_updated(db: Session, audit: AuditContext, data: dict[str, Any]) -> int | None:
    row = _subscription_row(db, data.get("id"), data.get("customer"))
    if row is None or row.stripe_subscription_id != data.get("id") or _stale(row, data):
        return None  # not (or no longer) the organisation's subscription, or older than what we know
    if data.get("status") in ("canceled", "incomplete_expired"):
        ended(db, audit, row, "billing.subscription.deleted")
        return row.organization_id
    before = snapshot(row)
    mirror(row, data)
    row.plan = _plan_name(data) or row.plan
    row.updated_at = utcnow()
    db.add(row)
    keep_organization_in_step(db, row.organization_id, terms_of(row))
    record(db, audit, row.organization_id, "billing.subscription.updated", row, before=before, after=snapshot(row))
    return row.organization_id


def _subscription_deleted(db: Session, audit: AuditContext, data: dict[str, Any]) -> int | None:
    row = _subscription_row(db, data.get("id"), None)
    if row is None:
        return None
    ended(db, audit, row, "billing.subscription.deleted")
    return row.organization_id


def _plan_name(data: dict[str, Any]) -> str | None:
    item = ((data.get("items") or {}).get("data") or [{}])[0]
    plan = data.get("plan") or item.get("plan") or {}
    name = (plan.get("metadata") or {}).get("auralink_plan")
    return name if name in {*CATALOGUE, PlanName.CUSTOM} else None


HANDLERS: dict[str, Callable[[Session, AuditContext, dict[str, Any]], int | None]] = {
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
}
