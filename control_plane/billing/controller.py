"""``/billing``: plans, the subscription, usage, overage charges, invoices, and Stripe's webhooks."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
import litestar
from litestar import Controller
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.billing import invoices, overage, service, webhooks
from control_plane.billing.faults import BillingNotConfigured, stripe_call, stripe_failure
from control_plane.billing.metering import Period, records
from control_plane.billing.models import Invoice
from control_plane.billing.plans import CATALOGUE, CURRENCY, OVERAGE_CENTS, Metric, PlanName, PlanTerms
from control_plane.billing.schemas import (
    InvoiceRead,
    OverageChargeRead,
    PeriodClose,
    PeriodClosed,
    PlanRead,
    SubscriptionChange,
    SubscriptionCreate,
    SubscriptionRead,
    UsageRecordRead,
    UsageSummary,
    WebhookAck,
)
from control_plane.billing.stripe_gateway import StripeGateway, gateway_for
from control_plane.context import AnyRequest, audit_context
from control_plane.db.types import utcnow
from control_plane.routing import PUBLIC, CurrentTenant, Db, IdParam, Limit, Offset, delete, get, post, put
from control_plane.state import app_state
from control_plane.tenancy import owned

PeriodParam = Annotated[
    str | None, QueryParameter(max_length=20, description="month as YYYY-MM (UTC); default: the current one")
]
MetricParam = Annotated[
    Literal["call_seconds", "stt_audio_seconds", "translation_characters", "aic_bytes_saved"] | None,
    QueryParameter(description="one usage metric; default: all"),
]
AtPeriodEnd = Annotated[bool, QueryParameter(description="keep the paid plan until its period ends")]
READ = requires(Permission.READ)
MANAGE = requires(Permission.MANAGE_BILLING)


def _gateway(state: State) -> StripeGateway | None:
    return gateway_for(app_state(state).settings)


def _plan(terms: PlanTerms, available: bool) -> PlanRead:
    return PlanRead(
        name=terms.name,
        monthly_price_cents=terms.monthly_price_cents,
        currency=CURRENCY,
        included_call_minutes=terms.included_call_minutes,
        included_ai_calls=terms.included_ai_calls,
        overage_cents_per_call_minute=OVERAGE_CENTS[Metric.CALL_MINUTES],
        overage_cents_per_ai_call=OVERAGE_CENTS[Metric.AI_CALLS],
        available=available,
    )


class BillingController(Controller):
    path = "/billing"
    tags = ("billing",)

    @get("/plans", guards=READ, summary="The plans, with prices, allowances and overage rates (cents, USD)")
    def plans(self, db: Db, state: State, tenant: CurrentTenant) -> list[PlanRead]:
        configured = _gateway(state) is not None
        found = [_plan(terms, configured or not terms.paid) for terms in CATALOGUE.values()]
        row = service.subscription_of(db, tenant.organization_id)
        if row.custom_price_cents is not None:
            found.append(_plan(service.wanted_terms(row, PlanName.CUSTOM), configured))
        return found

    @get("/subscription", guards=READ, summary="The organisation's plan and subscription (free when none)")
    def subscription(self, db: Db, tenant: CurrentTenant) -> SubscriptionRead:
        return service.read(service.subscription_of(db, tenant.organization_id))

    @post("/subscription", guards=MANAGE, summary="Subscribe to a plan (paid plans: in Stripe first)")
    def subscribe(
        self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[SubscriptionCreate]
    ) -> SubscriptionRead:
        row = service.subscribe(db, tenant, _gateway(state), data.plan, data.payment_method)
        return service.read(row)

    @put("/subscription", guards=MANAGE, summary="Change the plan (Stripe prorates between paid plans)")
    def change(
        self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[SubscriptionChange]
    ) -> SubscriptionRead:
        return service.read(service.change(db, tenant, _gateway(state), data.plan, data.payment_method))

    @delete("/subscription", guards=MANAGE, status_code=200, summary="Cancel now, or at the end of the paid period")
    def cancel(
        self, db: Db, state: State, tenant: CurrentTenant, at_period_end: AtPeriodEnd = False
    ) -> SubscriptionRead:
        return service.read(service.cancel(db, tenant, _gateway(state), at_period_end))

    @get("/usage", guards=READ, summary="Usage of a period by type, and the overage it costs")
    def usage_summary(self, db: Db, tenant: CurrentTenant, period: PeriodParam = None) -> UsageSummary:
        month = Period.parse(period) if period else Period.containing(utcnow())
        return overage.summary(db, tenant.organization_id, month)

    @get("/usage/records", guards=READ, summary="The usage events a period's summary adds up, oldest first")
    def usage_records(
        self,
        db: Db,
        tenant: CurrentTenant,
        period: PeriodParam = None,
        metric: MetricParam = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[UsageRecordRead]:
        month = Period.parse(period) if period else Period.containing(utcnow())
        found = records(db, tenant.organization_id, month, metric, limit, offset)
        return [UsageRecordRead.model_validate(r) for r in found]

    @get("/charges", guards=READ, summary="Overage charges recorded at period close, with their Stripe state")
    def charges(self, db: Db, tenant: CurrentTenant, period: PeriodParam = None) -> list[OverageChargeRead]:
        month = Period.parse(period) if period else None
        return [OverageChargeRead.model_validate(c) for c in overage.charges(db, tenant.organization_id, month)]

    @post("/periods/close", guards=MANAGE, status_code=200, summary="Close a finished period now (YYYY-MM)")
    def close(self, db: Db, state: State, tenant: CurrentTenant, data: JSONBody[PeriodClose]) -> PeriodClosed:
        month = Period.parse(data.period)
        rows, errors = overage.close_period(db, tenant.audit, _gateway(state), tenant.organization_id, month)
        if errors:
            raise stripe_failure(errors[0], f"pushing the overage of {month}")
        return PeriodClosed(period=str(month), charges=[OverageChargeRead.model_validate(r) for r in rows])

    @get("/invoices", guards=READ, summary="Invoices as last synced from Stripe, newest first")
    def list_invoices(self, db: Db, tenant: CurrentTenant, limit: Limit = 100, offset: Offset = 0) -> list[InvoiceRead]:
        return [
            InvoiceRead.model_validate(i) for i in invoices.of_organization(db, tenant.organization_id, limit, offset)
        ]

    @post("/invoices/sync", guards=MANAGE, status_code=200, summary="Fetch the invoices from Stripe now")
    def sync_invoices(self, db: Db, state: State, tenant: CurrentTenant) -> list[InvoiceRead]:
        gateway = _gateway(state)
        if service.subscription_of(db, tenant.organization_id).stripe_customer_id is not None:
            if gateway is None:  # a customer in Stripe, but no key any more
                raise BillingNotConfigured("syncing invoices")
            with stripe_call("fetching the invoices"):
                invoices.sync(db, gateway, tenant.organization_id)
        return [InvoiceRead.model_validate(i) for i in invoices.of_organization(db, tenant.organization_id)]

    @get("/invoices/{invoice_id:int}", guards=READ)
    def invoice(self, db: Db, tenant: CurrentTenant, invoice_id: IdParam) -> InvoiceRead:
        return InvoiceRead.model_validate(owned(db, Invoice, invoice_id, tenant.organization_id, "invoice"))


class StripeWebhookController(Controller):
    path = "/billing/webhooks"
    tags = ("billing",)
    opt = PUBLIC

    @litestar.post("/stripe", status_code=200, summary="Stripe's events, signed (Stripe-Signature)")
    async def stripe_event(self, request: AnyRequest, state: State) -> WebhookAck:
        settings = app_state(state).settings
        signature = request.headers.get("stripe-signature")
        if signature and settings.stripe_webhook_secret is None:  # unsigned requests are refused either way
            raise BillingNotConfigured("receiving Stripe webhooks", "stripe_webhook_secret")
        secret = settings.stripe_webhook_secret.get_secret_value() if settings.stripe_webhook_secret else ""
        payload = await request.body()
        event = webhooks.verify(payload, signature, secret, settings.stripe_webhook_tolerance_s)
        audit = audit_context(request)
        system = type(audit)(None, None, audit.ip, "stripe webhook", audit.request_id)

        def apply() -> WebhookAck:
            with app_state(state).session() as db:
                return webhooks.handle(db, system, event)

        return await anyio.to_thread.run_sync(apply)
