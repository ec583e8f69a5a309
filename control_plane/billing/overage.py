"""Closing a billing period: overage over the plan's allowances pushed to Stripe exactly once.

Stripe's idempotency keys are sent, but localstripe ignores them and a real key expires after
a day, so exactly-once comes from our own bookkeeping: a charge row, unique per
(organisation, period, metric), is committed as ``pending`` before the invoice item is
created and marked ``pushed`` (with the item's id) after. A retry that finds a ``pending``
row first asks Stripe for an item carrying the row's key (pending, or already on an invoice)
and only creates one when there is none.
"""

from __future__ import annotations

import datetime as dt

import stripe
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from control_plane.audit.service import record, snapshot
from control_plane.billing.faults import short
from control_plane.billing.metering import Period, Usage, usage
from control_plane.billing.models import OverageCharge
from control_plane.billing.plans import OVERAGE_CENTS, Metric, PlanName, PlanTerms
from control_plane.billing.schemas import ChargeLine, UsageSummary
from control_plane.billing.service import subscription_of, terms_of
from control_plane.billing.stripe_gateway import ORGANIZATION_KEY, StripeGateway
from control_plane.db.types import utcnow
from control_plane.domain_errors import InvalidInput
from control_plane.principals import AuditContext

NOT_CONFIGURED = "billing is not configured (stripe_api_key): the charge waits until it is"


def charge_lines(used: Usage, terms: PlanTerms) -> list[ChargeLine]:
    """What each billed metric of ``used`` costs over ``terms``' allowances."""
    lines = []
    for metric in Metric:
        quantity, included = used.billable(metric), terms.included(metric)
        overage = max(0, quantity - included)
        unit = OVERAGE_CENTS[metric]
        lines.append(
            ChargeLine(
                metric=metric,
                used=quantity,
                included=included,
                overage=overage,
                unit_amount_cents=unit,
                amount_cents=overage * unit,
            )
        )
    return lines


def charge_key(organization_id: int, period: Period, metric: str) -> str:
    """The idempotency key of one charge: derived from (organisation, period, metric) alone."""
    return f"auralink-overage-org{organization_id}-{period}-{metric}"


def charges(db: Session, organization_id: int, period: Period | None = None) -> list[OverageCharge]:
    query = select(OverageCharge).where(OverageCharge.organization_id == organization_id)
    if period is not None:
        query = query.where(OverageCharge.period == str(period))
    return list(db.exec(query.order_by(col(OverageCharge.period).desc(), col(OverageCharge.metric))).all())


def close_period(
    db: Session,
    audit: AuditContext,
    gateway: StripeGateway | None,
    organization_id: int,
    period: Period,
    now: dt.datetime | None = None,
) -> tuple[list[OverageCharge], list[stripe.StripeError]]:
    """Record the period's charges (once) and push every pending one; Stripe's errors are returned, not raised."""
    moment = now or utcnow()
    if period.end > moment:
        raise InvalidInput(f"period {period} has not ended yet (it ends {period.end.isoformat()})")
    record_charges(db, audit, organization_id, period)
    errors = push_pending(db, audit, gateway, organization_id, period)
    return charges(db, organization_id, period), errors


def record_charges(db: Session, audit: AuditContext, organization_id: int, period: Period) -> None:
    """The period's charge rows, written once; rows already there are kept as they are."""
    if charges(db, organization_id, period):
        return
    subscription = subscription_of(db, organization_id)
    terms = terms_of(subscription)
    billable = subscription.stripe_customer_id is not None or terms.name != PlanName.FREE
    rows = [
        OverageCharge(
            organization_id=organization_id,
            period=str(period),
            plan=terms.name,
            idempotency_key=charge_key(organization_id, period, line.metric),
            state="nothing_due" if line.overage == 0 else "pending" if billable else "waived",
            **line.model_dump(),
        )
        for line in charge_lines(usage(db, organization_id, period), terms)
    ]
    db.add_all(rows)
    try:
        db.flush()
    except IntegrityError:  # another closer recorded them first: theirs stand
        db.rollback()
        return
    for row in rows:
        record(db, audit, organization_id, "billing.overage.record", row, after=snapshot(row))
    db.commit()


def push_pending(
    db: Session, audit: AuditContext, gateway: StripeGateway | None, organization_id: int, period: Period | None = None
) -> list[stripe.StripeError]:
    """Push the organisation's pending charges (of ``period``, or all); errors leave the rows pending."""
    errors = []
    for charge in charges(db, organization_id, period):
        if charge.state != "pending":
            continue
        error = _push(db, audit, gateway, charge)
        if error is not None:
            errors.append(error)
    return errors


def _push(
    db: Session, audit: AuditContext, gateway: StripeGateway | None, charge: OverageCharge
) -> stripe.StripeError | None:
    customer_id = subscription_of(db, charge.organization_id).stripe_customer_id
    charge.attempts += 1
    if gateway is None or customer_id is None:
        charge.last_error = NOT_CONFIGURED if gateway is None else "the organisation has no Stripe customer yet"
        db.add(charge)
        db.commit()
        return None
    try:
        item_id = gateway.find_invoice_item(customer_id, charge.idempotency_key) or gateway.create_invoice_item(
            customer_id, charge.amount_cents, _description(charge), charge.idempotency_key, _metadata(charge)
        )
    except stripe.StripeError as error:
        charge.last_error = short(error)
        db.add(charge)
        db.commit()
        return error
    _mark_pushed(db, audit, charge, item_id)
    return None


def _mark_pushed(db: Session, audit: AuditContext, charge: OverageCharge, item_id: str) -> None:
    before = snapshot(charge)
    charge.state, charge.stripe_invoice_item_id, charge.pushed_at, charge.last_error = "pushed", item_id, utcnow(), ""
    db.add(charge)
    record(db, audit, charge.organization_id, "billing.overage.push", charge, before=before, after=snapshot(charge))
    db.commit()


def _description(charge: OverageCharge) -> str:
    unit = "call minutes" if charge.metric == Metric.CALL_MINUTES else "AI calls"
    return (
        f"AuraLink {charge.period}: {charge.overage:,} {unit} over the {charge.included:,} included "
        f"in {charge.plan}, at ${charge.unit_amount_cents / 100:.2f} each"
    )


def _metadata(charge: OverageCharge) -> dict[str, str]:
    return {
        ORGANIZATION_KEY: str(charge.organization_id),
        "auralink_period": charge.period,
        "auralink_metric": charge.metric,
    }


def summary(db: Session, organization_id: int, month: Period) -> UsageSummary:
    """A period's usage by type and the overage it costs: as recorded at close once closed, as it stands before."""
    recorded = charges(db, organization_id, month)
    row = subscription_of(db, organization_id)
    used = usage(db, organization_id, month)
    return UsageSummary(
        period=str(month),
        period_start=month.start,
        period_end=month.end,
        plan=recorded[0].plan if recorded else row.plan,
        call_minutes=round(used.call_minutes, 3),
        stt_audio_seconds=round(used.stt_audio_seconds, 3),
        translation_characters=used.translation_characters,
        aic_gigabytes_saved=round(used.aic_gigabytes_saved, 6),
        ai_calls=used.ai_calls,
        charges=[ChargeLine.model_validate(c) for c in recorded] if recorded else charge_lines(used, terms_of(row)),
        closed=bool(recorded),
    )
