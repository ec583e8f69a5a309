from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator

from control_plane.schemas import Input, Output, shaped

PlanChoice = Literal["free", "pro", "enterprise", "custom"]
PaymentMethodId = Annotated[
    str, shaped(r"pm_[A-Za-z0-9_]{1,250}", "a payment method is Stripe's id for it, such as 'pm_card_visa'")
]


class PlanRead(Output):
    name: str
    monthly_price_cents: int
    currency: str
    included_call_minutes: int
    included_ai_calls: int
    overage_cents_per_call_minute: int
    overage_cents_per_ai_call: int
    available: bool
    """Whether it can be chosen now (paid plans need Stripe configured; custom needs agreed terms)."""


class SubscriptionCreate(Input):
    plan: PlanChoice
    payment_method: PaymentMethodId | None = None
    """A Stripe PaymentMethod (from Stripe.js; ``pm_card_visa`` in test mode) made the customer's default."""


class SubscriptionChange(Input):
    plan: PlanChoice
    payment_method: PaymentMethodId | None = None


class SubscriptionRead(Output):
    organization_id: int
    plan: str
    status: str
    monthly_price_cents: int
    included_call_minutes: int
    included_ai_calls: int
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    canceled_at: dt.datetime | None


class ChargeLine(Output):
    """One billed metric of a period: used, included, over, and what the overage costs."""

    metric: str
    used: int
    included: int
    overage: int
    unit_amount_cents: int
    amount_cents: int


class UsageSummary(Output):
    period: str
    period_start: dt.datetime
    period_end: dt.datetime
    plan: str
    call_minutes: float
    stt_audio_seconds: float
    translation_characters: float
    aic_gigabytes_saved: float
    ai_calls: int
    """AI sessions: distinct (call, participant, feature) that used speech recognition or translation."""
    charges: list[ChargeLine]
    closed: bool
    """Whether the period was closed (its charges are then the ones recorded at close)."""


class UsageRecordRead(Output):
    """One usage event as an engine reported it (stored once, by its idempotency key)."""

    id: int
    idempotency_key: str
    metric: str
    quantity: float
    call_id: int | None
    participant: str | None
    feature: str
    provider: str
    at: dt.datetime

    @field_validator("at", mode="before")
    @classmethod
    def _from_unix_seconds(cls, value: object) -> object:
        return dt.datetime.fromtimestamp(value, dt.UTC) if isinstance(value, int | float) else value


class OverageChargeRead(Output):
    id: int
    organization_id: int
    period: str
    metric: str
    plan: str
    used: int
    included: int
    overage: int
    unit_amount_cents: int
    amount_cents: int
    state: Literal["nothing_due", "waived", "pending", "pushed"]
    idempotency_key: str
    stripe_invoice_item_id: str | None
    last_error: str
    attempts: int
    created_at: dt.datetime
    pushed_at: dt.datetime | None


class PeriodClose(Input):
    period: str = Field(max_length=20, description="the month to close, YYYY-MM (UTC)")


class PeriodClosed(Output):
    period: str
    charges: list[OverageChargeRead]


class InvoiceRead(Output):
    id: int
    stripe_invoice_id: str
    stripe_subscription_id: str | None
    number: str | None
    status: str
    currency: str
    subtotal_cents: int
    total_cents: int
    amount_due_cents: int
    amount_paid_cents: int
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    payment_failed: bool
    stripe_created_at: dt.datetime | None
    synced_at: dt.datetime


class CustomTerms(Input):
    """A custom plan's terms, agreed with one organisation."""

    monthly_price_cents: int = Field(ge=0, le=100_000_000)
    included_call_minutes: int = Field(ge=0, le=1_000_000_000)
    included_ai_calls: int = Field(ge=0, le=1_000_000_000)


class WebhookAck(Output):
    received: bool
    duplicate: bool = False
    handled: bool = False
