"""The admin UI as a plugin of the control-plane app: its pages, static files, templates, CSRF and CSP."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from litestar.config.app import AppConfig
from litestar.datastructures import ResponseHeader
from litestar.exceptions import MethodNotAllowedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from settings import ControlPlaneSettings
from ui.admin import filters
from ui.admin.pages.account import AccountPages
from ui.admin.pages.agents import AgentPages
from ui.admin.pages.analytics import AnalyticsPages
from ui.admin.pages.api_keys import ApiKeyPages
from ui.admin.pages.audit import AuditPages
from ui.admin.pages.billing import BillingPages
from ui.admin.pages.calls import CallPages
from ui.admin.pages.compliance import CompliancePages
from ui.admin.pages.live import LivePages
from ui.admin.pages.members import MemberPages
from ui.admin.pages.overview import OverviewPages
from ui.admin.pages.secrets import SecretPages
from ui.admin.pages.system import SystemPages
from ui.admin.web import EXCEPTION_HANDLERS, SECURITY_HEADERS, csrf_config, form_only

HERE = Path(__file__).parent
STATIC_PATH = "/ui/static"


class AdminUiPlugin(InitPluginProtocol):
    """Mounts the admin pages at ``/`` and ``/ui/...`` beside the API (whose paths stay as they are)."""

    def __init__(self, settings: ControlPlaneSettings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.template_config = TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=_configure
        )
        pages = Router(
            path="/",
            route_handlers=[
                OverviewPages,
                AccountPages,
                MemberPages,
                ApiKeyPages,
                AgentPages,
                CallPages,
                AnalyticsPages,
                LivePages,
                AuditPages,
                BillingPages,
                SecretPages,
                CompliancePages,
                SystemPages,
            ],
            middleware=[DefineMiddleware(CSRFMiddleware, config=csrf_config(self.settings))],
            exception_handlers=EXCEPTION_HANDLERS,
            response_headers=[ResponseHeader(name=k, value=v) for k, v in SECURITY_HEADERS.items()],
            include_in_schema=False,
        )
        static = create_static_files_router(
            path=STATIC_PATH, directories=[HERE / "static"], opt={"exclude_from_auth": True}, name="admin-static"
        )
        app_config.route_handlers.extend([pages, static])
        app_config.exception_handlers[MethodNotAllowedException] = form_only
        return app_config


def _configure(engine: JinjaTemplateEngine) -> None:
    environment: Environment = engine.engine
    environment.autoescape = True
    environment.filters.update(filters.ALL)
    environment.globals["static"] = lambda name: f"{STATIC_PATH}/{name}"
