"""The quality domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import Forbidden


class WorkerBanned(Forbidden):
    type, title = "worker-banned", "Banned from this project"
