"""Agents: stored with a validated pipeline, sent to an engine on request; every change audited."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, col, func, select

from control_plane.agents.engine_client import EngineUnavailableError, send_agent
from control_plane.agents.models import Agent
from control_plane.agents.schemas import AgentCreate, AgentJoin, AgentJoined, AgentUpdate
from control_plane.audit.service import record, snapshot
from control_plane.db.types import utcnow
from control_plane.domain_errors import (
    ClientError,
    Conflict,
    ControlPlaneError,
    NotConfigured,
    NotFound,
    Unprocessable,
    UpstreamFailed,
)
from control_plane.organizations.service import get as get_organization
from control_plane.principals import Tenant
from control_plane.tenancy import owned
from pipeline.config import ConfigError, load_pipeline_text
from settings import ControlPlaneSettings, SettingsError, join_token_secret


def validate_pipeline(text: str, agent_name: str) -> None:
    """Raise a 422 listing every problem (``FILE:LINE:COL: message``) in the agent's pipeline."""
    try:
        load_pipeline_text(text, Path(f"{agent_name}.yaml"))
    except ConfigError as error:
        raise Unprocessable(
            f"the pipeline is invalid: {error.problems[0]}", extra={"problems": [str(p) for p in error.problems]}
        ) from None


def create(db: Session, tenant: Tenant, data: AgentCreate) -> Agent:
    organization = get_organization(db, tenant.organization_id)
    count = db.exec(
        select(func.count()).select_from(Agent).where(Agent.organization_id == tenant.organization_id)
    ).one()
    if count >= organization.max_agents:
        raise Conflict(f"the {organization.plan} plan allows {organization.max_agents} agents")
    validate_pipeline(data.pipeline, data.name)
    agent = Agent(organization_id=tenant.organization_id, **data.model_dump())
    db.add(agent)
    db.flush()
    record(db, tenant.audit, tenant.organization_id, "agent.create", agent, after=snapshot(agent))
    db.commit()
    return agent


def of_organization(db: Session, organization_id: int) -> Sequence[Agent]:
    return db.exec(select(Agent).where(Agent.organization_id == organization_id).order_by(col(Agent.id))).all()


def get(db: Session, tenant: Tenant, agent_id: int) -> Agent:
    return owned(db, Agent, agent_id, tenant.organization_id, "agent")


def update(db: Session, tenant: Tenant, agent_id: int, data: AgentUpdate) -> Agent:
    agent = get(db, tenant, agent_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "pipeline" in changes:
        validate_pipeline(changes["pipeline"], changes.get("name", agent.name))
    before = snapshot(agent)
    for name, value in changes.items():
        setattr(agent, name, value)
    agent.updated_at = utcnow()
    db.add(agent)
    record(db, tenant.audit, tenant.organization_id, "agent.update", agent, before=before, after=snapshot(agent))
    db.commit()
    return agent


def remove(db: Session, tenant: Tenant, agent_id: int) -> None:
    agent = get(db, tenant, agent_id)
    record(db, tenant.audit, tenant.organization_id, "agent.delete", agent, before=snapshot(agent))
    db.delete(agent)
    db.commit()


def join(db: Session, tenant: Tenant, agent_id: int, data: AgentJoin, settings: ControlPlaneSettings) -> AgentJoined:
    agent = get(db, tenant, agent_id)
    try:
        secret = join_token_secret(settings)
    except SettingsError as error:
        raise NotConfigured(f"agents cannot join calls: {error}") from None
    identity = data.identity or f"agent-{agent.id}"
    try:
        answer = send_agent(
            settings.engine_url,
            secret,
            data.room,
            identity,
            agent.pipeline,
            agent.languages,
            data.ttl_s,
        )
    except EngineUnavailableError as error:
        raise _as_domain_error(error) from None
    joined = AgentJoined(
        agent_id=agent_id, room=data.room, identity=identity, engine_url=settings.engine_url, engine_response=answer
    )
    record(
        db,
        tenant.audit,
        tenant.organization_id,
        "agent.join",
        agent,
        after={"room": data.room, "identity": identity, "engine_url": settings.engine_url},
    )
    db.commit()
    return joined


_ENGINE_REFUSALS: dict[int, type[ClientError]] = {404: NotFound, 409: Conflict, 422: Unprocessable}
"""What the engine's answer says of the request itself (no such room, the identity taken, a pipeline that does not
start): the caller's to change, so a 4xx here too. Any other refusal (a token it does not accept, a failure of its
own) or no answer is the upstream's: a 502."""


def _as_domain_error(error: EngineUnavailableError) -> ControlPlaneError:
    refusal = _ENGINE_REFUSALS.get(error.status or 0)
    return refusal(str(error)) if refusal is not None else UpstreamFailed(str(error))
