"""The projects domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import Conflict, Forbidden, NotFound


class ProjectNotFound(NotFound):
    type, title = "project-not-found", "Project not found"


class AnnotationLocked(Conflict):
    type, title = "annotation-locked", "The annotation spec can no longer change"


class OperatorsUseAdmin(Forbidden):
    """Projects are listed per requester and per worker; an operator's view is /v1/admin."""

    def __init__(self) -> None:
        super().__init__("Operators see projects through /v1/admin.")
