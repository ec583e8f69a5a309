"""The billing job: close each month once it is over, retry pending charges, sync invoices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import stripe
import structlog
from sqlmodel import Session, col, select

from control_plane.billing import invoices, overage
from control_plane.billing.metering import Period, organizations_with_usage
from control_plane.billing.models import OverageCharge, Subscription
from control_plane.billing.stripe_gateway import StripeGateway, gateway_for
from control_plane.db.types import utcnow
from control_plane.plugins import PeriodicJobPlugin
from control_plane.principals import AuditContext
from control_plane.state import AppState
from settings import ControlPlaneSettings

log = structlog.get_logger(__name__)
SYSTEM = AuditContext(
    actor_user_id=None, actor_api_key_id=None, ip="", user_agent="auralink billing job", request_id=""
)


def billing_job(settings: ControlPlaneSettings) -> PeriodicJobPlugin:
    """The billing job, every ``billing_interval_s``."""
    return PeriodicJobPlugin("billing", settings.billing_interval_s, run)


def run(state: AppState) -> dict[str, Any]:
    gateway = gateway_for(state.settings)
    with state.session() as db:
        closed = close_finished_period(db, gateway, state.settings.billing_close_delay_s)
        retried = retry_pending(db, gateway)
        synced = sync_invoices(db, gateway)
    return {"closed": closed, "retry_errors": retried, "invoices_synced": synced}


def close_finished_period(
    db: Session, gateway: StripeGateway | None, delay_s: float, now: dt.datetime | None = None
) -> int:
    """Close last month for every organisation that used something, once ``delay_s`` has passed since it ended."""
    moment = now or utcnow()
    period = Period.containing(moment).previous()
    if moment < period.end + dt.timedelta(seconds=delay_s):
        return 0
    closed = 0
    for organization_id in organizations_with_usage(db, period):
        _, errors = overage.close_period(db, SYSTEM, gateway, organization_id, period, moment)
        closed += 1
        for error in errors:
            log.warning("overage push failed", organization_id=organization_id, period=str(period), error=str(error))
    return closed


def retry_pending(db: Session, gateway: StripeGateway | None) -> int:
    """Push every charge left pending by an earlier failure; the number still failing."""
    pending = db.exec(select(OverageCharge.organization_id).where(OverageCharge.state == "pending").distinct()).all()
    return sum(len(overage.push_pending(db, SYSTEM, gateway, organization_id)) for organization_id in pending)


def sync_invoices(db: Session, gateway: StripeGateway | None) -> int:
    """Refresh the invoices of every organisation with a Stripe customer; the number stored."""
    if gateway is None:
        return 0
    customers = db.exec(
        select(Subscription.organization_id).where(col(Subscription.stripe_customer_id).is_not(None))
    ).all()
    stored = 0
    for organization_id in customers:
        try:
            stored += len(invoices.sync(db, gateway, organization_id))
        except stripe.StripeError as error:
            db.rollback()
            log.warning("invoice sync failed", organization_id=organization_id, error=str(error))
    return stored
