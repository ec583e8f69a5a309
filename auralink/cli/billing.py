"""``auralink billing``: operator commands — custom plan terms, closing a billing period."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from settings import Settings

if TYPE_CHECKING:
    from sqlmodel import Session


@click.group()
def billing() -> None:
    """Billing operations (an operator's, not an organisation's)."""


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    # imported here: SQLAlchemy would add to every other command's start
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from control_plane.db.engine import database_url, make_engine

    engine = make_engine(database_url(settings))
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"the database refused: {str(cause).splitlines()[0]}") from None
    finally:
        engine.dispose()


@billing.command("custom-terms")
@click.argument("organization_id", type=click.IntRange(1))
@click.option("--price-cents", type=click.IntRange(0, 100_000_000), required=True, help="Monthly price, US cents.")
@click.option("--call-minutes", type=click.IntRange(0), required=True, help="Call minutes included each month.")
@click.option("--ai-calls", type=click.IntRange(0), required=True, help="AI calls included each month.")
@click.pass_obj
def custom_terms(settings: Settings, organization_id: int, price_cents: int, call_minutes: int, ai_calls: int) -> None:
    """Agree custom plan terms with ORGANIZATION_ID; it can then subscribe to the ``custom`` plan."""
    from control_plane.billing.job import SYSTEM
    from control_plane.billing.plans import custom_terms as terms
    from control_plane.billing.service import set_custom_terms
    from control_plane.domain_errors import NotFound

    with _session(settings) as db:
        try:
            set_custom_terms(db, SYSTEM, organization_id, terms(price_cents, call_minutes, ai_calls))
        except NotFound as error:
            raise click.ClickException(error.message) from None
    click.echo(f"organisation {organization_id}: custom plan at {price_cents} cents a month agreed")


@billing.command("close-period")
@click.argument("period")
@click.pass_obj
def close_period(settings: Settings, period: str) -> None:
    """Close PERIOD (YYYY-MM) for every organisation that used something: overage pushed to Stripe once."""
    from control_plane.billing.job import SYSTEM
    from control_plane.billing.metering import Period, organizations_with_usage
    from control_plane.billing.overage import close_period as close
    from control_plane.billing.stripe_gateway import gateway_for
    from control_plane.domain_errors import InvalidInput

    try:
        month = Period.parse(period)
    except InvalidInput as error:
        raise click.BadParameter(error.message, param_hint="PERIOD") from None
    gateway = gateway_for(settings)
    failed = 0
    with _session(settings) as db:
        organizations = organizations_with_usage(db, month)
        if not organizations:
            click.echo(f"no organisation used anything in {month}: nothing to close")
        for organization_id in organizations:
            try:
                charges, errors = close(db, SYSTEM, gateway, organization_id, month)
            except InvalidInput as error:
                raise click.ClickException(error.message) from None
            failed += len(errors)
            due = sum(c.amount_cents for c in charges if c.state in ("pending", "pushed"))
            states = ", ".join(f"{c.metric} {c.state}" for c in charges)
            click.echo(f"organisation {organization_id}: {due} cents of overage ({states})")
    if failed:
        raise click.ClickException(f"{failed} charges could not reach Stripe and stay pending: run this again later")
