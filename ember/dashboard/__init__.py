"""The live training dashboard (`ember dashboard`): a local web page that follows runs as they train."""

from __future__ import annotations

from .server import DashboardServer, RunRegistry, make_server, read_metrics_since, serve

__all__ = ["DashboardServer", "RunRegistry", "make_server", "read_metrics_since", "serve"]
