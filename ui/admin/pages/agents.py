"""Agents: list, create and edit (the pipeline validated as it is typed), delete, send one into a room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller
from litestar.datastructures import State
from litestar.response import Redirect, Template

import pipeline
from control_plane.agents import service as agents
from control_plane.agents.schemas import AgentCreate, AgentJoin, AgentUpdate
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.domain_errors import ClientError, ControlPlaneError, Unprocessable
from control_plane.routing import CurrentTenant, Db, IdParam, get, post
from control_plane.state import app_state
from ui.admin.forms import FormError, FormState, form_values, parse
from ui.admin.pages.account import FormBody
from ui.admin.web import back_to, page, refusal_status

STARTER = (Path(pipeline.__file__).parent / "examples" / "room_levels.yaml").read_text()
"""What a new agent's pipeline starts as: a valid room pipeline to change."""


def _agent_values(values: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the agent models take them (languages typed as ``en, pt-BR``)."""
    shaped = {k: v for k, v in values.items() if k in {"name", "pipeline", "languages"}}
    if "languages" in shaped:
        shaped["languages"] = [part.strip() for part in shaped["languages"].split(",") if part.strip()]
    return shaped


def _pipeline_problems(error: ControlPlaneError) -> list[str]:
    extra = error.extra if isinstance(error.extra, dict) else {}
    return [str(p) for p in extra.get("problems", [])] or [error.message]


class AgentPages(Controller):
    path = "/ui/agents"
    include_in_schema = False
    guards = requires(Permission.READ)

    @get("/")
    def agents(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return page(request, db, "agents.html", agents=agents.of_organization(db, tenant.organization_id))

    @get("/new", guards=requires(Permission.USE))
    def new(self, db: Db, request: AnyRequest) -> Template:
        return page(request, db, "agent_edit.html", agent=None, form=FormState({"pipeline": STARTER}), problems=[])

    @post("/new", guards=requires(Permission.USE))
    def create(self, db: Db, tenant: CurrentTenant, data: FormBody, request: AnyRequest) -> Template | Redirect:
        values = form_values(data)
        try:
            created = agents.create(db, tenant, parse(AgentCreate, _agent_values(values)))
        except (FormError, ClientError) as error:
            return _edit_again(db, request, None, values, error)
        return back_to(f"/ui/agents/{created.id}")

    @post("/validate", guards=requires(Permission.USE))
    def validate(self, data: FormBody) -> Template:
        """The pipeline's problems as the person types (htmx swaps them in beside the text)."""
        values = form_values(data)
        problems: list[str] = []
        try:
            agents.validate_pipeline(values.get("pipeline", ""), values.get("name") or "agent")
        except Unprocessable as error:
            problems = _pipeline_problems(error)
        return Template("partials/pipeline_problems.html", context={"problems": problems, "checked": True})

    @get("/{agent_id:int}")
    def edit(self, db: Db, tenant: CurrentTenant, agent_id: IdParam, request: AnyRequest) -> Template:
        agent = agents.get(db, tenant, agent_id)
        values = {"name": agent.name, "pipeline": agent.pipeline, "languages": ", ".join(agent.languages)}
        return page(request, db, "agent_edit.html", agent=agent, form=FormState(values), problems=[])

    @post("/{agent_id:int}", guards=requires(Permission.USE))
    def update(
        self, db: Db, tenant: CurrentTenant, agent_id: IdParam, data: FormBody, request: AnyRequest
    ) -> Template | Redirect:
        agent = agents.get(db, tenant, agent_id)
        values = form_values(data)
        try:
            shaped = _agent_values(values) | ({"languages": []} if "languages" not in values else {})
            agents.update(db, tenant, agent_id, parse(AgentUpdate, shaped))
        except (FormError, ClientError) as error:
            return _edit_again(db, request, agent, values, error)
        return back_to(f"/ui/agents/{agent_id}?saved=1")

    @post("/{agent_id:int}/delete", guards=requires(Permission.USE))
    def delete(self, db: Db, tenant: CurrentTenant, agent_id: IdParam) -> Redirect:
        agents.remove(db, tenant, agent_id)
        return back_to("/ui/agents")

    @post("/{agent_id:int}/join", guards=requires(Permission.USE))
    def join(
        self, db: Db, state: State, tenant: CurrentTenant, agent_id: IdParam, data: FormBody, request: AnyRequest
    ) -> Template:
        agent = agents.get(db, tenant, agent_id)
        values = {k: v for k, v in form_values(data).items() if k in {"room", "identity"}}
        edit_values = {"name": agent.name, "pipeline": agent.pipeline, "languages": ", ".join(agent.languages)}
        try:
            joined = agents.join(db, tenant, agent_id, parse(AgentJoin, values), app_state(state).settings)
        except FormError as refused:
            return _join_again(db, request, agent, edit_values, refused.state, 400)
        except ControlPlaneError as error:
            shown = FormState(values, problem=error.message)
            return _join_again(db, request, agent, edit_values, shown, refusal_status(error))
        return page(
            request, db, "agent_edit.html", agent=agent, form=FormState(edit_values), problems=[], joined=joined
        )


def _join_again(
    db: Db, request: AnyRequest, agent: Any, edit_values: dict[str, Any], join: FormState, status: int
) -> Template:
    return page(
        request,
        db,
        "agent_edit.html",
        agent=agent,
        form=FormState(edit_values),
        join=join,
        problems=[],
        status_code=status,
    )


def _edit_again(db: Db, request: AnyRequest, agent: Any, values: dict[str, Any], error: Exception) -> Template:
    if isinstance(error, FormError):
        state, problems = error.state, []
    else:
        assert isinstance(error, ClientError)
        problems = _pipeline_problems(error) if isinstance(error, Unprocessable) else []
        state = FormState(values, {"pipeline": error.message} if problems else {}, "" if problems else error.message)
    state.values = values
    status = refusal_status(error)
    return page(request, db, "agent_edit.html", agent=agent, form=state, problems=problems, status_code=status)
