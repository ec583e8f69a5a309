"""Invoices: synced from Stripe (on demand, by the billing job, by webhooks) and read locally."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from control_plane.billing.models import Invoice
from control_plane.billing.service import subscription_of
from control_plane.billing.stripe_gateway import StripeGateway
from control_plane.db.types import utcnow


def of_organization(db: Session, organization_id: int, limit: int = 100, offset: int = 0) -> list[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.organization_id == organization_id)
        .order_by(col(Invoice.stripe_created_at).desc(), col(Invoice.id).desc())
    )
    return list(db.exec(query.offset(offset).limit(limit)).all())


def sync(db: Session, gateway: StripeGateway, organization_id: int) -> list[Invoice]:
    """Fetch every invoice of the organisation's Stripe customer and store it; Stripe's errors propagate."""
    customer_id = subscription_of(db, organization_id).stripe_customer_id
    if customer_id is None:
        return []
    rows = [store(db, organization_id, data) for data in gateway.invoices(customer_id)]
    db.commit()
    return rows


def store(db: Session, organization_id: int, data: dict[str, Any], payment_failed: bool | None = None) -> Invoice:
    """Insert or update the local copy of Stripe invoice ``data`` (not committed)."""
    stripe_id = str(data["id"])
    row = db.exec(select(Invoice).where(Invoice.stripe_invoice_id == stripe_id)).first()
    row = row or Invoice(organization_id=organization_id, stripe_invoice_id=stripe_id, status="draft", currency="usd")
    row.status = str(data.get("status") or row.status)
    row.currency = str(data.get("currency") or row.currency)
    row.stripe_subscription_id = _text(data.get("subscription"))
    row.number = _text(data.get("number"))
    row.subtotal_cents = int(data.get("subtotal") or 0)
    row.total_cents = int(data.get("total") or 0)
    row.amount_due_cents = int(data.get("amount_due") or 0)
    row.amount_paid_cents = int(data.get("amount_paid") or 0)
    row.period_start = _time(data.get("period_start"))
    row.period_end = _time(data.get("period_end"))
    row.hosted_invoice_url = _text(data.get("hosted_invoice_url"))
    row.invoice_pdf = _text(data.get("invoice_pdf"))
    row.stripe_created_at = _time(data.get("created"))
    if payment_failed is not None:
        row.payment_failed = payment_failed
    elif row.status == "paid":
        row.payment_failed = False
    row.synced_at = utcnow()
    db.add(row)
    db.flush()
    return row


def _text(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return None if value is None else str(value)


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None
