from __future__ import annotations

from app.core.errors import Unprocessable


class ToolNotForProject(Unprocessable):
    type, title = "assist-tool-not-for-project", "This assist tool does not fit the project"


class NothingFound(Unprocessable):
    type, title = "assist-nothing-found", "The assist tool found no object"
