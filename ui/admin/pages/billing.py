"""Billing: the plan and its usage against what it includes, change or cancel it, the card (typed into Stripe.js
Elements, confirmed by a SetupIntent), invoices and the usage records they bill."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.billing import cards, invoices, overage, service
from control_plane.billing.faults import BillingNotConfigured, stripe_call
from control_plane.billing.metering import Period, records
from control_plane.billing.plans import CATALOGUE, PlanName
from control_plane.billing.stripe_gateway import StripeGateway, gateway_for
from control_plane.context import AnyRequest
from control_plane.db.types import utcnow
from control_plane.domain_errors import ControlPlaneError, InvalidInput
from control_plane.principals import Tenant
from control_plane.routing import CurrentTenant, Db, get, post
from control_plane.state import app_state
from settings import ControlPlaneSettings
from ui.admin.forms import FormState, form_values
from ui.admin.pages.account import FormBody
from ui.admin.web import CSP, PageNumber, back_to, page, page_window, paged, refusal_status

HERE = "/ui/billing"
STRIPE_JS = "https://js.stripe.com/v3/"
MANAGE = requires(Permission.MANAGE_BILLING)
MonthField = Annotated[str, QueryParameter(max_length=40, description="the month shown, YYYY-MM")]


def stripe_js_url(settings: ControlPlaneSettings) -> str:
    """Stripe.js: Stripe's own, or the test one that the Stripe-compatible server at ``stripe_api_base`` serves."""
    base = settings.stripe_api_base
    if base and urlsplit(base).hostname != "api.stripe.com":
        return f"{base.rstrip('/')}/js.stripe.com/v3/"
    return STRIPE_JS


def billing_csp(settings: ControlPlaneSettings) -> str:
    """The frame's CSP, widened on this page only for Stripe.js: its script, the API it calls, its frames."""
    parts = urlsplit(stripe_js_url(settings))
    origin = f"{parts.scheme}://{parts.netloc}"
    api = "https://api.stripe.com" if origin == "https://js.stripe.com" else origin
    frames = f"{origin} https://hooks.stripe.com" if origin == "https://js.stripe.com" else origin
    return (
        CSP.replace("script-src 'self'", f"script-src 'self' {origin}")
        .replace("connect-src 'self'", f"connect-src 'self' {api}")
        .replace("object-src 'none'", f"frame-src {frames}; object-src 'none'")
    )


class BillingPages(Controller):
    path = HERE
    include_in_schema = False

    @get("/", guards=requires(Permission.READ))
    def billing(
        self,
        db: Db,
        state: State,
        tenant: CurrentTenant,
        request: AnyRequest,
        period: MonthField = "",
        page_number: PageNumber = 1,
    ) -> Template:
        return _page(db, state, tenant, request, period=period, page_number=page_number)

    @post("/plan", guards=MANAGE)
    def choose_plan(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        plan = str(values.get("plan", ""))
        try:
            if plan not in {p.value for p in PlanName}:
                raise InvalidInput(f"choose one of the plans, not {plan[:40]!r}")
            row = service.subscription_of(db, tenant.organization_id)
            move = service.change if row.stripe_subscription_id is not None else service.subscribe
            move(db, tenant, _gateway(state), plan, None)
        except ControlPlaneError as error:  # Stripe failing or not configured too: said beside the form
            form = FormState(values, {"plan": error.message})
            return _page(db, state, tenant, request, form=form, status_code=refusal_status(error))
        return back_to(HERE)

    @post("/cancel", guards=MANAGE)
    def cancel(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        at_period_end = form_values(data).get("when") != "now"
        try:
            service.cancel(db, tenant, _gateway(state), at_period_end)
        except ControlPlaneError as error:  # Stripe failing or not configured too: said beside the form
            return _page(db, state, tenant, request, cancel_error=error.message, status_code=refusal_status(error))
        return back_to(HERE)

    @post("/card/setup", guards=MANAGE, status_code=200)
    def card_setup(self, db: Db, state: State, tenant: CurrentTenant) -> dict[str, str]:
        """A SetupIntent's client secret for Stripe.js's ``confirmCardSetup`` (fetched by billing.js)."""
        return {"client_secret": cards.start_setup(db, tenant, _gateway(state))}

    @post("/card", guards=MANAGE)
    def save_card(
        self, db: Db, state: State, tenant: CurrentTenant, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        values = form_values(data)
        try:
            cards.save_card(db, tenant, _gateway(state), str(values.get("setup_intent", "")))
        except ControlPlaneError as error:  # Stripe failing or not configured too: said beside the form
            form = FormState({}, {"card": error.message})
            return _page(db, state, tenant, request, form=form, status_code=refusal_status(error))
        return back_to(HERE)

    @post("/invoices/sync", guards=MANAGE)
    def sync_invoices(self, db: Db, state: State, tenant: CurrentTenant) -> Redirect:
        gateway = _gateway(state)
        if service.subscription_of(db, tenant.organization_id).stripe_customer_id is not None:
            if gateway is None:
                raise BillingNotConfigured("syncing invoices")
            with stripe_call("fetching the invoices"):
                invoices.sync(db, gateway, tenant.organization_id)
        return back_to(HERE)


def _gateway(state: State) -> StripeGateway | None:
    return gateway_for(app_state(state).settings)


def _plans(db: Db, tenant: Tenant, configured: bool) -> list[dict[str, Any]]:
    row = service.subscription_of(db, tenant.organization_id)
    terms = list(CATALOGUE.values())
    if row.custom_price_cents is not None:
        terms.append(service.wanted_terms(row, PlanName.CUSTOM))
    return [
        {"terms": t, "available": configured or not t.paid, "current": t.name == row.plan and row.plan != "custom"}
        for t in terms
    ]


def _page(
    db: Db, state: State, tenant: Tenant, request: AnyRequest, period: str = "", page_number: int = 1, **context: Any
) -> Template:
    settings = app_state(state).settings
    gateway = _gateway(state)
    form = context.pop("form", None) or FormState()
    try:
        month = Period.parse(period) if period else Period.containing(utcnow())
    except InvalidInput as error:
        month = Period.containing(utcnow())
        form = FormState({"period": period}, {**form.errors, "period": error.message})
        context.setdefault("status_code", refusal_status(error))
    row = service.subscription_of(db, tenant.organization_id)
    card_entry = gateway is not None and settings.stripe_publishable_key is not None
    limit, offset = page_window(page_number)
    shown, pager = paged(request, records(db, tenant.organization_id, month, None, limit, offset), page_number)
    rendered = page(
        request,
        db,
        "billing.html",
        form=form,
        subscription=service.read(row),
        usage=overage.summary(db, tenant.organization_id, month),
        plans=_plans(db, tenant, gateway is not None),
        configured=gateway is not None,
        card=cards.card_on_file(db, tenant.organization_id, gateway),
        card_entry=card_entry,
        stripe_js=stripe_js_url(settings) if card_entry else None,
        publishable_key=settings.stripe_publishable_key,
        invoices=invoices.of_organization(db, tenant.organization_id),
        records=shown,
        **pager,
        cancel_error=context.pop("cancel_error", ""),
        **context,
    )
    if card_entry:
        rendered.headers["Content-Security-Policy"] = billing_csp(settings)
    return rendered
