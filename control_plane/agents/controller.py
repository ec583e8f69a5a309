"""``/agents``: an organisation's AI agents, and sending one into a room."""

from __future__ import annotations

from litestar import Controller
from litestar.datastructures import State
from litestar.params import JSONBody

from control_plane.agents import service
from control_plane.agents.schemas import AgentCreate, AgentJoin, AgentJoined, AgentRead, AgentUpdate
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.routing import CurrentTenant, Db, IdParam, delete, get, patch, post
from control_plane.state import app_state


class AgentController(Controller):
    path = "/agents"
    tags = ("agents",)
    guards = requires(Permission.READ)

    @post("/", guards=requires(Permission.USE), summary="Create an agent (its pipeline is validated first)")
    def create(self, db: Db, tenant: CurrentTenant, data: JSONBody[AgentCreate]) -> AgentRead:
        return AgentRead.model_validate(service.create(db, tenant, data))

    @get("/")
    def list_agents(self, db: Db, tenant: CurrentTenant) -> list[AgentRead]:
        return [AgentRead.model_validate(a) for a in service.of_organization(db, tenant.organization_id)]

    @get("/{agent_id:int}")
    def get_one(self, db: Db, tenant: CurrentTenant, agent_id: IdParam) -> AgentRead:
        return AgentRead.model_validate(service.get(db, tenant, agent_id))

    @patch("/{agent_id:int}", guards=requires(Permission.USE))
    def update(self, db: Db, tenant: CurrentTenant, agent_id: IdParam, data: JSONBody[AgentUpdate]) -> AgentRead:
        return AgentRead.model_validate(service.update(db, tenant, agent_id, data))

    @delete("/{agent_id:int}", guards=requires(Permission.USE))
    def delete_one(self, db: Db, tenant: CurrentTenant, agent_id: IdParam) -> None:
        service.remove(db, tenant, agent_id)

    @post(
        "/{agent_id:int}/join",
        guards=requires(Permission.USE),
        status_code=201,
        summary="Ask the engine to join a room as this agent, running its pipeline",
    )
    def join(
        self, db: Db, state: State, tenant: CurrentTenant, agent_id: IdParam, data: JSONBody[AgentJoin]
    ) -> AgentJoined:
        return service.join(db, tenant, agent_id, data, app_state(state).settings)
