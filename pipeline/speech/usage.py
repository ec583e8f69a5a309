"""Usage and latency events of the speech stages, and their conversion to telemetry records.

Stages post ``usage`` events on the graph's bus (``metric``, ``quantity``,
``provider``, ``feature``) and ``stt-latency`` / ``translate-latency`` events;
:func:`usage_record` turns a usage event into the
:class:`~telemetry.records.UsageEvent` the control plane bills from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast, get_args

from engine.frames import EventFrame
from telemetry.records import TelemetryReporter, UsageEvent, UsageMetric, new_idempotency_key

USAGE_EVENT = "usage"
STT_LATENCY_EVENT = "stt-latency"
TRANSLATE_LATENCY_EVENT = "translate-latency"


def usage_record(event: EventFrame, room: str | None = None, participant: str | None = None) -> UsageEvent | None:
    """The telemetry record for a ``usage`` bus event; ``None`` for any other event."""
    if event.name != USAGE_EVENT:
        return None
    metric = event.data.get("metric")
    if metric not in get_args(UsageMetric):
        return None
    metric = cast(UsageMetric, metric)
    return UsageEvent(
        metric=metric,
        quantity=float(event.data.get("quantity", 0.0)),
        room=room,
        participant=participant,
        feature=str(event.data.get("feature", "")),
        provider=str(event.data.get("provider", "")),
        idempotency_key=str(event.data.get("key") or event.data.get("idempotency_key") or new_idempotency_key()),
    )


def usage_forwarder(
    reporter: TelemetryReporter, room: str | None = None, participant: str | None = None
) -> Callable[[EventFrame], None]:
    """A bus subscriber that reports every speech usage event to ``reporter`` (``bus.subscribe(...)``)."""

    def forward(event: EventFrame) -> None:
        record = usage_record(event, room, participant)
        if record is not None:
            reporter.report(record)

    return forward


def new_usage(metric: UsageMetric, quantity: float, feature: str, provider: str) -> UsageEvent:
    """A usage record of a stream outside any call (the speech WebSocket endpoints), under a fresh key."""
    return UsageEvent(
        metric=metric,
        quantity=round(quantity, 3),
        feature=feature,
        provider=provider,
        idempotency_key=new_idempotency_key(),
    )
