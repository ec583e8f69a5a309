"""Subscriptions: create, change, cancel — kept in the database and in Stripe, every change audited.

A paid plan becomes the organisation's plan only once Stripe has confirmed the subscription;
until then nothing local changes except the Stripe customer id (an empty customer bills
nothing). Before creating a subscription we look for one we created earlier whose
confirmation never reached our database, and adopt it, so a retry never subscribes twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import stripe
from sqlmodel import Session, select

from control_plane.audit.service import record, snapshot
from control_plane.billing.faults import BillingNotConfigured, stripe_call, stripe_failure
from control_plane.billing.models import Subscription
from control_plane.billing.plans import CATALOGUE, PlanName, PlanTerms, custom_terms
from control_plane.billing.schemas import SubscriptionRead
from control_plane.billing.stripe_gateway import StripeGateway
from control_plane.db.types import utcnow
from control_plane.domain_errors import Conflict, InvalidInput, PaymentRequired
from control_plane.organizations.models import Organization
from control_plane.organizations.service import apply_plan
from control_plane.organizations.service import get as get_organization
from control_plane.principals import AuditContext, Tenant

CONFIRMED = frozenset({"active", "trialing"})


def subscription_of(db: Session, organization_id: int) -> Subscription:
    """The organisation's subscription row; a transient free one (not added to ``db``) when it has none."""
    found = db.exec(select(Subscription).where(Subscription.organization_id == organization_id)).first()
    return found or Subscription(organization_id=organization_id)


def terms_of(row: Subscription) -> PlanTerms:
    if row.plan == PlanName.CUSTOM:
        return custom_terms(row.custom_price_cents or 0, row.custom_call_minutes or 0, row.custom_ai_calls or 0)
    return CATALOGUE[PlanName(row.plan)]


def read(row: Subscription) -> SubscriptionRead:
    terms = terms_of(row)
    return SubscriptionRead.model_validate(
        row.model_dump()
        | {
            "monthly_price_cents": terms.monthly_price_cents,
            "included_call_minutes": terms.included_call_minutes,
            "included_ai_calls": terms.included_ai_calls,
        }
    )


def wanted_terms(row: Subscription, plan: str) -> PlanTerms:
    if plan != PlanName.CUSTOM:
        return CATALOGUE[PlanName(plan)]
    if row.custom_price_cents is None:
        raise Conflict("no custom terms are agreed for this organisation: ask sales (auralink billing custom-terms)")
    return custom_terms(row.custom_price_cents, row.custom_call_minutes or 0, row.custom_ai_calls or 0)


def subscribe(
    db: Session, tenant: Tenant, gateway: StripeGateway | None, plan: str, payment_method: str | None
) -> Subscription:
    """A new subscription (409 when a paid one is already running: change it instead)."""
    row = subscription_of(db, tenant.organization_id)
    if row.stripe_subscription_id is not None:
        raise Conflict(f"already subscribed to {row.plan}: change the plan with PUT /billing/subscription")
    return _move_to(db, tenant, gateway, row, plan, payment_method, "billing.subscription.create")


def change(
    db: Session, tenant: Tenant, gateway: StripeGateway | None, plan: str, payment_method: str | None
) -> Subscription:
    """Another plan; between paid plans Stripe prorates the difference."""
    row = subscription_of(db, tenant.organization_id)
    if plan == PlanName.FREE and row.stripe_subscription_id is not None:
        raise Conflict(
            "to return to the free plan, cancel the paid subscription (DELETE /billing/subscription, "
            "at_period_end=true keeps it until the paid period ends)"
        )
    return _move_to(db, tenant, gateway, row, plan, payment_method, "billing.subscription.change")


def _move_to(
    db: Session,
    tenant: Tenant,
    gateway: StripeGateway | None,
    row: Subscription,
    plan: str,
    payment_method: str | None,
    action: str,
) -> Subscription:
    terms = wanted_terms(row, plan)
    if not terms.paid:
        if payment_method is not None:
            raise InvalidInput("the free plan takes no payment_method")
        return _apply(db, tenant.audit, row, terms, None, action)
    if gateway is None:
        raise BillingNotConfigured(f"the {plan} plan")
    customer_id = customer_of(db, tenant.audit, gateway, row)
    if payment_method is not None:
        use_payment_method(gateway, customer_id, payment_method)
    elif row.stripe_subscription_id is None:  # a running subscription already has its card
        with stripe_call("checking the payment method"):
            if not gateway.has_payment_method(customer_id):
                raise PaymentRequired(f"the {plan} plan needs a card: give a payment_method (from Stripe.js)")
    with stripe_call(f"subscribing to the {plan} plan"):
        live = _subscribe_in_stripe(gateway, customer_id, terms, row)
    return _apply(db, tenant.audit, row, terms, live, action)


def customer_of(db: Session, audit: AuditContext, gateway: StripeGateway, row: Subscription) -> str:
    if row.stripe_customer_id is not None:
        return row.stripe_customer_id
    organization = get_organization(db, row.organization_id)
    with stripe_call("creating the Stripe customer"):
        row.stripe_customer_id = gateway.create_customer(row.organization_id, organization.name)
    row.updated_at = utcnow()
    db.add(row)
    db.flush()
    record(db, audit, row.organization_id, "billing.customer.create", row, after=snapshot(row))
    db.commit()
    return row.stripe_customer_id


def use_payment_method(gateway: StripeGateway, customer_id: str, payment_method: str) -> None:
    doing = "attaching the payment method"
    try:
        gateway.use_payment_method(customer_id, payment_method)
    except stripe.InvalidRequestError as error:
        if error.http_status in (400, 404):
            raise InvalidInput(f"Stripe does not accept payment method {payment_method!r}") from error
        raise stripe_failure(error, doing) from error
    except stripe.StripeError as error:
        raise stripe_failure(error, doing) from error


def _subscribe_in_stripe(gateway: StripeGateway, customer_id: str, terms: PlanTerms, row: Subscription) -> Any:
    organization_id = row.organization_id
    plan_id = gateway.ensure_plan(terms, organization_id)
    live = gateway.live_subscription(customer_id, organization_id)
    if live is not None:  # ours, confirmed by Stripe but not recorded (a lost answer) or being changed
        return live if _stripe_plan(live) == plan_id else gateway.change_plan(live["id"], plan_id)
    # the same key for every retry of this subscription; a new one once an earlier subscription has ended
    ended_at = int(row.canceled_at.timestamp()) if row.canceled_at else 0
    key = f"auralink-subscribe-{customer_id}-{plan_id}-{ended_at}"
    created = gateway.create_subscription(customer_id, plan_id, organization_id, key)
    if created.get("status") not in CONFIRMED:
        gateway.cancel_quietly(created["id"])
        raise PaymentRequired(
            f"Stripe could not take the first payment (subscription {created.get('status')}): "
            "give a payment_method that can be charged"
        )
    return created


def _apply(
    db: Session, audit: AuditContext, row: Subscription, terms: PlanTerms, live: dict[str, Any] | None, action: str
) -> Subscription:
    before = snapshot(row) if row.id is not None else None
    row.plan = terms.name
    if live is None:
        row.status, row.stripe_subscription_id = "active", None
        row.current_period_start = row.current_period_end = None
        row.cancel_at_period_end = False
    else:
        mirror(row, live)
    row.updated_at = utcnow()
    db.add(row)
    db.flush()
    keep_organization_in_step(db, row.organization_id, terms)
    record(db, audit, row.organization_id, action, row, before=before, after=snapshot(row))
    db.commit()
    return row


def mirror(row: Subscription, live: dict[str, Any]) -> None:
    """Copy what Stripe says of the subscription onto ``row``."""
    item = ((live.get("items") or {}).get("data") or [{}])[0]
    row.stripe_subscription_id = str(live["id"])
    row.status = str(live.get("status") or "active")
    row.cancel_at_period_end = bool(live.get("cancel_at_period_end"))
    row.current_period_start = _time(live.get("current_period_start") or item.get("current_period_start"))
    row.current_period_end = _time(live.get("current_period_end") or item.get("current_period_end"))


def keep_organization_in_step(db: Session, organization_id: int, terms: PlanTerms) -> None:
    """The organisation's plan, included minutes and seats follow the subscription."""
    organization = db.get(Organization, organization_id)
    if organization is not None:
        apply_plan(organization, terms)
        db.add(organization)


def cancel(db: Session, tenant: Tenant, gateway: StripeGateway | None, at_period_end: bool) -> Subscription:
    """End the paid subscription now (back to free at once) or at the end of the paid period."""
    row = subscription_of(db, tenant.organization_id)
    if row.stripe_subscription_id is None:
        raise Conflict(f"the {row.plan} plan has no paid subscription to cancel")
    if gateway is None:
        raise BillingNotConfigured("cancelling a paid subscription")
    subscription_id = row.stripe_subscription_id
    if at_period_end:
        with stripe_call("cancelling the subscription at the end of its period"):
            live = gateway.cancel_at_period_end(subscription_id)
        before = snapshot(row)
        mirror(row, live)
        row.updated_at = utcnow()
        db.add(row)
        record(
            db,
            tenant.audit,
            row.organization_id,
            "billing.subscription.cancel",
            row,
            before=before,
            after=snapshot(row),
        )
        db.commit()
        return row
    with stripe_call("cancelling the subscription"):
        gateway.cancel_now(subscription_id)
    ended(db, tenant.audit, row, "billing.subscription.cancel")
    db.commit()
    return row


def ended(db: Session, audit: AuditContext, row: Subscription, action: str) -> Subscription:
    """The paid subscription has ended: the organisation is on the free plan again (the caller commits)."""
    before = snapshot(row)
    row.plan, row.status, row.stripe_subscription_id = PlanName.FREE, "active", None
    row.cancel_at_period_end = False
    row.current_period_start = row.current_period_end = None
    row.canceled_at = utcnow()
    row.updated_at = utcnow()
    db.add(row)
    keep_organization_in_step(db, row.organization_id, CATALOGUE[PlanName.FREE])
    record(db, audit, row.organization_id, action, row, before=before, after=snapshot(row))
    return row


def set_custom_terms(db: Session, audit: AuditContext, organization_id: int, terms: PlanTerms) -> Subscription:
    """Agree custom terms with an organisation (an operator's action); it may then choose the custom plan."""
    get_organization(db, organization_id)
    row = subscription_of(db, organization_id)
    before = snapshot(row) if row.id is not None else None
    row.custom_price_cents = terms.monthly_price_cents
    row.custom_call_minutes = terms.included_call_minutes
    row.custom_ai_calls = terms.included_ai_calls
    row.updated_at = utcnow()
    db.add(row)
    db.flush()
    record(db, audit, organization_id, "billing.custom_terms", row, before=before, after=snapshot(row))
    db.commit()
    return row


def _stripe_plan(live: dict[str, Any]) -> str:
    item = ((live.get("items") or {}).get("data") or [{}])[0]
    return str((live.get("plan") or item.get("plan") or {}).get("id"))


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None
