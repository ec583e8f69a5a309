from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.schemas import Output


class Period(Output):
    since: dt.datetime
    until: dt.datetime


class QualityFigures(Output):
    samples: int
    avg_latency_ms: float | None
    max_latency_ms: float | None
    avg_jitter_ms: float | None
    max_jitter_ms: float | None
    avg_loss: float | None
    avg_mos: float | None
    min_mos: float | None
    avg_bitrate_kbps: float | None


class ConnectionQuality(QualityFigures):
    connection_type: str


class ParticipantQuality(QualityFigures):
    participant: str


class CallTypeFigures(Output):
    call_type: str
    calls: int
    minutes: float


class FeatureUsage(Output):
    feature: str
    metric: str
    quantity: float
    events: int
    cost_usd: float


class ProviderUsage(FeatureUsage):
    provider: str


class TopUser(Output):
    participant: str
    calls: int
    minutes: float


class Overview(Output):
    period: Period
    members: int
    participants: int
    calls: int
    minutes: float
    ai_events: int
    cost_usd: float
    aic_bytes_saved: float
    call_types: list[CallTypeFigures]
    ai_features: list[FeatureUsage]
    quality: QualityFigures
    quality_by_connection: list[ConnectionQuality]
    top_users: list[TopUser]


class QualityReport(Output):
    period: Period
    call_id: int | None
    participant: str | None
    summary: QualityFigures
    by_connection: list[ConnectionQuality]
    by_participant: list[ParticipantQuality]


class UsageSummary(Output):
    period: Period
    events: int
    cost_usd: float
    by_feature: list[FeatureUsage]
    by_provider: list[ProviderUsage]


class TimelinePoint(Output):
    start: dt.datetime
    metric: str
    quantity: float
    cost_usd: float


class UsageTimeline(Output):
    period: Period
    granularity: str
    points: list[TimelinePoint]


class Realtime(Output):
    active_calls: int
    participants: int
    mos_distribution: dict[str, int]
    frames_per_second: float
    backend: str


class InsightRead(Output):
    id: int
    kind: str
    title: str
    detail: str
    estimated_monthly_savings: float
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ReportRead(Output):
    id: int
    name: str
    definition: dict[str, Any]
    created_by: int | None
    created_at: dt.datetime
