"""Admin UI fixtures: the control plane's databases (SQLite and PostgreSQL), served on real HTTP, and chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from argon2 import profiles
from playwright.sync_api import Browser, sync_playwright
from pydantic import SecretStr

from control_plane.auth.passwords import use_parameters
from settings import Settings
from tests.control_plane.billing.helpers import API_KEY
from tests.control_plane.billing.stripe_servers import LocalStripe
from tests.support.admin_ui import PageChecks, control_plane_with_ui
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.databases import Backend, migrated_backend, settings_for


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at production cost takes most of a second here; the code path is the same at any cost."""
    use_parameters(profiles.CHEAPEST)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The control plane's databases, SQLite and PostgreSQL (a database of its own, beside the control plane
    tests' one in the same run)."""
    with migrated_backend(request.param, tmp_path_factory.mktemp(f"admin-ui-{request.param}"), "_ui") as found:
        yield found


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return settings_for(backend)


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """localstripe (Stripe's API and its test Stripe.js) in a subprocess, for the Billing page."""
    server = LocalStripe()
    yield server
    server.stop()


@pytest.fixture
def billing_settings(settings: Settings, localstripe: LocalStripe) -> Settings:
    """The control plane with Stripe configured as localstripe (card entry included)."""
    return settings.model_copy(
        update={
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_api_base": localstripe.url,
            "stripe_publishable_key": "pk_test_auralink_admin_ui",
            "stripe_max_network_retries": 0,
        }
    )


@pytest.fixture
def stripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    """Direct access to localstripe, to look at what the page did there."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url})


@pytest.fixture
def ui_url(settings: Settings) -> Iterator[str]:
    with control_plane_with_ui(settings) as served:
        yield served.url


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Chromium for one test (Playwright's sync API runs an event loop while it lives: it must not outlive the
    test, or the async tests after it could not run theirs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is installed by dev.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def checks(settings: Settings) -> PageChecks:
    name = "postgresql" if settings.database_url else "sqlite"
    return PageChecks(name)
