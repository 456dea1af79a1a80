from __future__ import annotations

from app.core.errors import Unprocessable


class ToolNotForProject(Unprocessable):
    type, title = "assist-tool-not-for-project", "This assist tool does not fit the project"


class NothingFound(Unprocessable):
    type, title = "assist-nothing-found", "The assist tool found no object"


class UnknownLabel(Unprocessable):
    def __init__(self, label: str) -> None:
        super().__init__(
            f"The project has no label {label!r}.",
            errors=[
                {"loc": ["body", "label"], "msg": f"not one of the project's labels: {label!r}"}
            ],
        )


class BadBox(Unprocessable):
    """The box the tool should work in is too small or leaves the image (``problem`` says
    which)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"Bad box: {problem}.", errors=[{"loc": ["body", "box"], "msg": problem}])


class PointOutsideImage(Unprocessable):
    def __init__(self, width: int, height: int) -> None:
        problem = f"the point must lie inside the {width}x{height} image"
        super().__init__(
            f"Bad point: {problem}.", errors=[{"loc": ["body", "point"], "msg": problem}]
        )
