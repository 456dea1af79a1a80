from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from app.core.schemas import InputModel, OutputModel

Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
AssignmentId = Annotated[
    str, Field(min_length=1, max_length=64, description="A live lease of the calling worker.")
]
Label = Annotated[str, Field(min_length=1, max_length=200, description="One of the project's.")]


class BoxIn(InputModel):
    assignment_id: AssignmentId
    box: tuple[Coordinate, Coordinate, Coordinate, Coordinate] = Field(
        description="[x, y, w, h] in image pixels, around the object."
    )
    label: Label


class PointIn(InputModel):
    assignment_id: AssignmentId
    point: tuple[Coordinate, Coordinate] = Field(description="[x, y] in image pixels.")
    label: Label
    segments: int = Field(
        default=400, ge=16, le=4000, description="About how many superpixels the image has."
    )


class SnapIn(InputModel):
    assignment_id: AssignmentId
    point: tuple[Coordinate, Coordinate] = Field(description="[x, y] in image pixels.")
    radius: float = Field(default=10, gt=0, le=50, description="How far to look, in pixels.")


class AssistAnswer(OutputModel):
    tool: Literal["box_to_polygon", "box_to_mask", "superpixel"]
    answer: dict[str, Any] = Field(
        description="A valid answer in the project's shape holding the suggested shape only "
        "(polygon: one object; segmentation: a mask with the label's value on the region)."
    )
    area: int = Field(description="Pixels the suggestion covers.")


class SnapOut(OutputModel):
    tool: Literal["snap"] = "snap"
    point: tuple[float, float] = Field(description="The edge point, or the point itself.")
    snapped: bool = Field(description="Whether an edge was found within the radius.")
