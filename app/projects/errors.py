"""The projects domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class ProjectNotFound(NotFound):
    type, title = "project-not-found", "Project not found"


class AnnotationLocked(Conflict):
    type, title = "annotation-locked", "The annotation spec can no longer change"
