"""Admin UI fixtures: the control plane's databases (SQLite and PostgreSQL), served on real HTTP, and chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from settings import Settings
from tests.control_plane.conftest import backend, cheap_password_hashing, settings
from tests.support.admin_ui import PageChecks, control_plane_with_ui
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS

__all__ = ["backend", "cheap_password_hashing", "settings"]


@pytest.fixture
def ui_url(settings: Settings) -> Iterator[str]:
    with control_plane_with_ui(settings) as served:
        yield served.url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
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
