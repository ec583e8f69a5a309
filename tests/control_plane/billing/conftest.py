"""Billing fixtures: a real localstripe, a fault-injecting proxy in front of it, and an app that uses both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from litestar import Litestar
from pydantic import SecretStr

from control_plane.app import create_app
from settings import Settings
from tests.control_plane.billing.helpers import API_KEY, WEBHOOK_SECRET
from tests.control_plane.billing.stripe_servers import LocalStripe, StripeProxy


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    server = LocalStripe()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stripe_proxy_server(localstripe: LocalStripe) -> Iterator[StripeProxy]:
    proxy = StripeProxy(localstripe.url)
    yield proxy
    proxy.stop()


@pytest.fixture
def stripe_proxy(stripe_proxy_server: StripeProxy) -> Iterator[StripeProxy]:
    """The proxy, passing everything through unless a test sets ``fault``."""
    stripe_proxy_server.fault = None
    yield stripe_proxy_server
    stripe_proxy_server.fault = None


@pytest.fixture
def stripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    """Direct access to localstripe, to look at (or act as) Stripe."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url})


@pytest.fixture
def billing_settings(settings: Settings, stripe_proxy: StripeProxy) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_api_base": stripe_proxy.url,
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_timeout_s": 1.0,
            "stripe_max_network_retries": 0,
        }
    )


@pytest.fixture
def app(billing_settings: Settings) -> Litestar:
    return create_app(billing_settings, migrate=False)
