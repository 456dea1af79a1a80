"""The operator domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import NotFound


class WorkerNotFound(NotFound):
    type, title = "worker-not-found", "Worker not found"
