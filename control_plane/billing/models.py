"""Billing tables: each organisation's subscription, overage charges per period, invoices, Stripe events.

None of them holds personal data: Stripe customers are created with the organisation's
name and id only, and invoices are stored without the customer's e-mail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.db.types import UTCDateTime, utcnow


class Subscription(SQLModel, table=True):
    """An organisation's plan; a paid plan is mirrored by a Stripe subscription.

    No row means the free plan. ``status`` is Stripe's (``active``, ``past_due`` …) and only
    becomes ``active`` for a paid plan once Stripe has confirmed the subscription.
    """

    __tablename__ = "billing_subscription"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True, ondelete="CASCADE")
    plan: str = Field(default="free", max_length=32)
    status: str = Field(default="active", max_length=32)
    stripe_customer_id: str | None = Field(default=None, max_length=255, index=True)
    stripe_subscription_id: str | None = Field(default=None, max_length=255, index=True)
    custom_price_cents: int | None = None
    custom_call_minutes: int | None = None
    custom_ai_calls: int | None = None
    current_period_start: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    current_period_end: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_at_period_end: bool = False
    canceled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OverageCharge(SQLModel, table=True):
    """One metric of one organisation's closed period: what was used, included and charged.

    Written (``pending``) before the invoice item is created in Stripe and completed (``pushed``,
    with the item's id) after, so a retry finds it and never bills twice. ``nothing_due`` when
    usage stayed within the plan; ``waived`` for the free plan without a Stripe customer.
    """

    __tablename__ = "billing_overage_charge"
    __table_args__ = (UniqueConstraint("organization_id", "period", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    period: str = Field(max_length=7)
    """``YYYY-MM`` (UTC)."""
    metric: str = Field(max_length=32)
    plan: str = Field(max_length=32)
    used: int
    included: int
    overage: int
    unit_amount_cents: int
    amount_cents: int
    state: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=128, unique=True)
    stripe_invoice_item_id: str | None = Field(default=None, max_length=255)
    last_error: str = Field(default="", max_length=500)
    attempts: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    pushed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invoice(SQLModel, table=True):
    """A Stripe invoice of the organisation, as last synced (on demand, by the job, or by a webhook)."""

    __tablename__ = "billing_invoice"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    stripe_invoice_id: str = Field(max_length=255, unique=True)
    stripe_subscription_id: str | None = Field(default=None, max_length=255)
    number: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=32)
    currency: str = Field(max_length=8)
    subtotal_cents: int = 0
    total_cents: int = 0
    amount_due_cents: int = 0
    amount_paid_cents: int = 0
    period_start: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    period_end: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    hosted_invoice_url: str | None = Field(default=None, max_length=2000)
    invoice_pdf: str | None = Field(default=None, max_length=2000)
    payment_failed: bool = False
    stripe_created_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    synced_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StripeEvent(SQLModel, table=True):
    """A webhook event already processed: a redelivery of the same id is acknowledged and ignored."""

    __tablename__ = "billing_stripe_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", ondelete="SET NULL")
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
