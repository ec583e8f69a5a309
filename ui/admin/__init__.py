"""The admin web UI: server-rendered pages over the control plane's services (see ui/README.md)."""

from ui.admin.plugin import AdminUiPlugin

__all__ = ["AdminUiPlugin"]
