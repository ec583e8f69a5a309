"""The admin UI at scale (``auralink bench ui``): server time and Largest Contentful Paint in chromium.

The control-plane benchmark's data set (1 million calls, 10 million quality samples, times ``--scale`` as
``bench control-plane`` takes it; ``--quick``: 10,000 calls; ``AURALINK_BENCH_UI_CALLS`` sets an exact size) is
COPYed into a scratch PostgreSQL database for one organisation, and its hourly rollups are built from it.
Overview, Calls and one call's page are then fetched over HTTP by a signed-in owner (server time: the whole
answer, HTML included) and loaded in Debian's headless chromium, where a PerformanceObserver reads the Largest
Contentful Paint.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import httpx
import psycopg
from playwright.sync_api import Browser, sync_playwright

from benchmarks.control_plane_data import SPAN_DAYS, load
from benchmarks.control_plane_suite import _percentile, _scratch_database, _serving, _timed
from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp

CHROMIUM = "/usr/bin/chromium"
SERVER_P95_TARGET_MS = 150.0
LCP_TARGET_MS = 1000.0
PASSWORD = "benchmark password"
SHOWS = {"overview": 'data-chart="calls"', "calls": 'href="/ui/calls/', "call": 'data-chart="quality"'}
"""What each page must contain to count (its data, not an empty state)."""
_LCP = """() => new Promise((resolve) => {
    new PerformanceObserver((list) => {
        const entries = list.getEntries();
        resolve(entries[entries.length - 1].startTime);
    }).observe({type: "largest-contentful-paint", buffered: true});
})"""


@register_suite("ui")
def ui_suite(options: BenchOptions) -> SuiteResult:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    calls = int(
        os.environ.get("AURALINK_BENCH_UI_CALLS") or (10_000 if options.quick else round(1_000_000 * options.scale))
    )
    # p95 of five rounds was their slowest one: as many rounds as the control-plane bench, fewer browser loads
    server_rounds, paint_rounds = (10, 10) if options.quick else (30, 20)
    figures: list[Figure] = []
    notes: list[str] = []
    with _scratch_database() as url, _serving(url, with_ui=True) as (base, _app, _grpc_port):
        owner = _signed_in_owner(base)
        loaded = load(url, owner.organization_id, calls, span_days=SPAN_DAYS * options.scale)
        notes.append(
            f"loaded {loaded.calls:,} calls, {loaded.samples:,} quality samples in {loaded.seconds:.1f} s;"
            f" hourly rollups built in {loaded.rollup_seconds:.1f} s"
        )
        figures.append(Figure("load_seconds", round(loaded.seconds, 1), "s", better="info"))
        figures.append(Figure("rollup_build_seconds", round(loaded.rollup_seconds, 1), "s", better="info"))
        pages = {"overview": "/", "calls": "/ui/calls", "call": f"/ui/calls/{_some_call(url)}"}
        for name, path in pages.items():
            figures += _server_time(name, path, SHOWS[name], owner.client, server_rounds)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                for name, path in pages.items():
                    figures += _paint(name, base + path, browser, owner.client, paint_rounds)
            finally:
                browser.close()
    return stamp(SuiteResult("ui", figures, notes=notes), "litestar", "jinja2", "playwright")


class _Owner:
    """A signed-up owner of the benchmarked organisation, signed in with a session cookie (as a browser is)."""

    def __init__(self, client: httpx.Client, organization_id: int) -> None:
        self.client = client
        self.organization_id = organization_id


def _signed_in_owner(base: str) -> _Owner:
    client = httpx.Client(base_url=base, timeout=120)
    email = f"bench-ui-{uuid.uuid4().hex[:8]}@example.com"
    client.post("/users", json={"email": email, "name": "Bench", "password": PASSWORD}).raise_for_status()
    client.post("/auth/login", json={"email": email, "password": PASSWORD}).raise_for_status()
    organization_id = int(client.post("/organizations", json={"name": "Bench"}).json()["id"])
    client.post("/auth/organization", json={"organization_id": organization_id}).raise_for_status()
    return _Owner(client, organization_id)


def _some_call(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute('SELECT max(id) FROM "call"').fetchone()
    return int(row[0]) if row and row[0] else 1


def _server_time(name: str, path: str, shows: str, client: httpx.Client, rounds: int) -> list[Figure]:
    def fetch() -> None:
        answer = client.get(path)
        assert answer.status_code == 200 and shows in answer.text, f"{path}: {answer.status_code} without {shows}"

    timings = _timed(fetch, rounds)
    return [
        Figure(f"{name}_server_p50_ms", round(_percentile(timings, 50), 2), "ms"),
        Figure(f"{name}_server_p95_ms", round(_percentile(timings, 95), 2), "ms", target=SERVER_P95_TARGET_MS),
    ]


def _paint(name: str, url: str, browser: Browser, client: httpx.Client, rounds: int) -> list[Figure]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(_cookies(client, url))
    try:
        page = context.new_page()
        paints: list[float] = []
        for _ in range(rounds + 1):  # the first load warms the static files' cache, as a returning admin has
            page.goto(url, wait_until="load")
            paints.append(float(page.evaluate(_LCP)))
        timings = paints[1:]
    finally:
        context.close()
    return [
        Figure(f"{name}_lcp_p50_ms", round(_percentile(timings, 50), 1), "ms"),
        Figure(f"{name}_lcp_p95_ms", round(_percentile(timings, 95), 1), "ms", target=LCP_TARGET_MS),
    ]


def _cookies(client: httpx.Client, url: str) -> list[Any]:
    return [{"name": c.name, "value": c.value or "", "url": url} for c in client.cookies.jar]
