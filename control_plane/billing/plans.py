"""The plan catalogue: prices, included usage and overage rates (amounts in US cents)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PlanName(enum.StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"
    CUSTOM = "custom"


class Metric(enum.StrEnum):
    """The billed metrics; their overage is charged per unit."""

    CALL_MINUTES = "call_minutes"
    AI_CALLS = "ai_calls"


CURRENCY = "usd"
OVERAGE_CENTS: dict[Metric, int] = {Metric.CALL_MINUTES: 1, Metric.AI_CALLS: 5}
"""$0.01 a call minute and $0.05 an AI call over the plan's allowance."""


@dataclass(frozen=True)
class PlanTerms:
    """What a plan costs each month and what it includes."""

    name: PlanName
    monthly_price_cents: int
    included_call_minutes: int
    included_ai_calls: int

    @property
    def paid(self) -> bool:
        """Whether the plan needs a Stripe subscription."""
        return self.name != PlanName.FREE

    def included(self, metric: Metric) -> int:
        return self.included_call_minutes if metric == Metric.CALL_MINUTES else self.included_ai_calls

    def stripe_plan_id(self, organization_id: int) -> str:
        """The Stripe Plan this plan is billed with (one per organisation and price for custom plans)."""
        if self.name == PlanName.CUSTOM:
            return f"auralink-custom-org{organization_id}-{self.monthly_price_cents}c-monthly"
        return f"auralink-{self.name}-monthly"


CATALOGUE: dict[PlanName, PlanTerms] = {
    PlanName.FREE: PlanTerms(PlanName.FREE, 0, 1_000, 100),
    PlanName.PRO: PlanTerms(PlanName.PRO, 4_900, 10_000, 1_000),
    PlanName.ENTERPRISE: PlanTerms(PlanName.ENTERPRISE, 49_900, 100_000, 10_000),
}
"""The standard plans; ``custom`` terms are set per organisation (see :func:`custom_terms`)."""

STRIPE_PRODUCT_ID = "auralink-platform"
"""The one Stripe Product every plan belongs to."""


def custom_terms(monthly_price_cents: int, included_call_minutes: int, included_ai_calls: int) -> PlanTerms:
    return PlanTerms(PlanName.CUSTOM, monthly_price_cents, included_call_minutes, included_ai_calls)
