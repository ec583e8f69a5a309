"""Everything AuraLink asks of Stripe, through the ``stripe`` library's ``StripeClient``.

Answers come back as plain dicts (stripe 16 objects are not dicts). Stripe's errors are left
to propagate; ``faults.py`` turns them into HTTP answers. Works against Stripe and against
localstripe, which has Plans but no Prices, so plans are Stripe Plans of one Product.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import stripe

from control_plane.billing.plans import CURRENCY, STRIPE_PRODUCT_ID, PlanTerms
from settings import ControlPlaneSettings

ORGANIZATION_KEY = "auralink_organization_id"
"""Metadata key naming the organisation on every customer and subscription we create."""
CHARGE_KEY = "auralink_charge_key"
"""Metadata key carrying an overage charge's idempotency key on its invoice item."""
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})


class StripeGateway:
    """One Stripe account (an API key, an address, timeouts and retries)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self._known_plans: set[str] = set()

    # -- catalogue -------------------------------------------------------------------------------------
    def ensure_plan(self, terms: PlanTerms, organization_id: int) -> str:
        """The Stripe Plan id for ``terms``, created (with the Product) the first time it is needed."""
        plan_id = terms.stripe_plan_id(organization_id)
        if plan_id in self._known_plans:
            return plan_id
        self._ensure(self.client.v1.products, STRIPE_PRODUCT_ID, {"id": STRIPE_PRODUCT_ID, "name": "AuraLink"})
        params = {
            "id": plan_id,
            "product": STRIPE_PRODUCT_ID,
            "amount": terms.monthly_price_cents,
            "currency": CURRENCY,
            "interval": "month",
            "nickname": f"AuraLink {terms.name}",
            "metadata": {"auralink_plan": str(terms.name)},
        }
        self._ensure(self.client.v1.plans, plan_id, params)
        self._known_plans.add(plan_id)
        return plan_id

    @staticmethod
    def _ensure(service: Any, object_id: str, params: dict[str, Any]) -> None:
        try:
            service.retrieve(object_id)
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
            try:
                service.create(params=params)
            except stripe.StripeError as conflict:  # created meanwhile by another process
                if conflict.http_status not in (400, 409):
                    raise

    # -- customers and subscriptions -------------------------------------------------------------------
    def create_customer(self, organization_id: int, name: str) -> str:
        params = {"name": name, "metadata": {ORGANIZATION_KEY: str(organization_id)}}
        return str(self.client.v1.customers.create(params=params).id)  # type: ignore[arg-type]

    def use_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        """Attach a payment method (from Stripe.js, or ``pm_card_visa`` in test mode) and make it the default."""
        self.client.v1.payment_methods.attach(payment_method_id, params={"customer": customer_id})
        self.client.v1.customers.update(
            customer_id, params={"invoice_settings": {"default_payment_method": payment_method_id}}
        )

    def has_payment_method(self, customer_id: str) -> bool:
        customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        return bool(
            (customer.get("invoice_settings") or {}).get("default_payment_method") or customer.get("default_source")
        )

    def create_setup_intent(self, customer_id: str) -> dict[str, Any]:
        """A SetupIntent for a card the customer types into Stripe.js (``confirmCardSetup``), saved for later use."""
        params: Any = {"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]}
        return self.client.v1.setup_intents.create(params=params).to_dict()

    def setup_intent(self, setup_intent_id: str) -> dict[str, Any]:
        return self.client.v1.setup_intents.retrieve(setup_intent_id).to_dict()

    def default_card(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's default payment method's card (brand, last4, expiry), if it has one."""
        customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        method = (customer.get("invoice_settings") or {}).get("default_payment_method")
        if not method:
            return None
        method_id = method if isinstance(method, str) else method.get("id")
        card = self.client.v1.payment_methods.retrieve(method_id).to_dict().get("card")
        return dict(card) if card else None

    def live_subscription(self, customer_id: str, organization_id: int) -> dict[str, Any] | None:
        """The customer's not-yet-ended subscription that we created for ``organization_id``, if any."""
        found = self.client.v1.subscriptions.list(params={"customer": customer_id, "limit": 100})
        for subscription in found.data:
            data = subscription.to_dict()
            mine = str((data.get("metadata") or {}).get(ORGANIZATION_KEY)) == str(organization_id)
            if mine and data.get("status") in LIVE_STATUSES:
                return data
        return None

    def create_subscription(
        self, customer_id: str, plan_id: str, organization_id: int, idempotency_key: str
    ) -> dict[str, Any]:
        """A subscription, paid at once (``error_if_incomplete``); ``idempotency_key`` makes Stripe's retries safe."""
        params: Any = {
            "customer": customer_id,
            "items": [{"plan": plan_id}],
            "payment_behavior": "error_if_incomplete",
            "metadata": {ORGANIZATION_KEY: str(organization_id)},
        }
        options: Any = {"idempotency_key": idempotency_key}
        return self.client.v1.subscriptions.create(params=params, options=options).to_dict()

    def change_plan(self, subscription_id: str, plan_id: str) -> dict[str, Any]:
        """Move the subscription to ``plan_id``; Stripe prorates (credit for unused time, charge for the new)."""
        current = self.client.v1.subscriptions.retrieve(subscription_id).to_dict()
        item_id = current["items"]["data"][0]["id"]
        params: Any = {"items": [{"id": item_id, "plan": plan_id}], "cancel_at_period_end": False}
        return self.client.v1.subscriptions.update(subscription_id, params=params).to_dict()

    def cancel_at_period_end(self, subscription_id: str) -> dict[str, Any]:
        params: Any = {"cancel_at_period_end": True}
        return self.client.v1.subscriptions.update(subscription_id, params=params).to_dict()

    def cancel_now(self, subscription_id: str) -> dict[str, Any]:
        return self.client.v1.subscriptions.cancel(subscription_id).to_dict()

    def cancel_quietly(self, subscription_id: str) -> None:
        """Cancel a subscription whose first payment failed (best effort: it bills nothing as it is)."""
        with contextlib.suppress(stripe.StripeError):
            self.client.v1.subscriptions.cancel(subscription_id)

    # -- overage and invoices --------------------------------------------------------------------------
    def find_invoice_item(self, customer_id: str, charge_key: str) -> str | None:
        """The invoice item already created for ``charge_key``: pending, or on one of the customer's invoices."""
        pending = self.client.v1.invoice_items.list(params={"customer": customer_id, "limit": 100})
        for item in pending.auto_paging_iter():
            if str((item.to_dict().get("metadata") or {}).get(CHARGE_KEY)) == charge_key:
                return str(item.id)
        for invoice in self.invoices(customer_id):
            for line in (invoice.get("lines") or {}).get("data", []):
                if str((line.get("metadata") or {}).get(CHARGE_KEY)) == charge_key:
                    return str(line.get("invoice_item") or line.get("id"))
        return None

    def create_invoice_item(
        self, customer_id: str, amount_cents: int, description: str, charge_key: str, metadata: dict[str, str]
    ) -> str:
        """A pending invoice item (it joins the customer's next invoice); ``charge_key`` is its idempotency key."""
        params: Any = {
            "customer": customer_id,
            "amount": amount_cents,
            "currency": CURRENCY,
            "description": description,
            "metadata": {**metadata, CHARGE_KEY: charge_key},
        }
        options: Any = {"idempotency_key": charge_key}
        return str(self.client.v1.invoice_items.create(params=params, options=options).id)

    def invoices(self, customer_id: str) -> Iterator[dict[str, Any]]:
        found = self.client.v1.invoices.list(params={"customer": customer_id, "limit": 100})
        for invoice in found.auto_paging_iter():
            yield invoice.to_dict()

    def ping(self) -> bool:
        """A cheap authenticated call (the account balance), tried once: readiness reports, it does not wait."""
        options: Any = {"max_network_retries": 0}
        return isinstance(self.client.v1.balance.retrieve(options=options).to_dict(), dict)


def gateway_for(settings: ControlPlaneSettings) -> StripeGateway | None:
    """The gateway for the configured Stripe account; ``None`` when ``stripe_api_key`` is unset."""
    if settings.stripe_api_key is None:
        return None
    return _gateway(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        settings.stripe_timeout_s,
        settings.stripe_max_network_retries,
    )


@functools.lru_cache(maxsize=8)
def _gateway(api_key: str, api_base: str | None, timeout_s: float, retries: int) -> StripeGateway:
    client = stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout_s),
    )
    return StripeGateway(client)
