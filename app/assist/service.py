"""Assist tools for a leased task: read the lease and image, run the tool, answer validly.

Each use case reads the worker's assignment with its task, image and project in one statement
and ends that read-only transaction before the image work starts, so no connection is held
while OpenCV runs. The suggestion is checked with the project's own answer validation before it
is returned: what the worker gets is an answer they could submit as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotations import MAX_POLYGON_POINTS, AnnotationSpec, AnswerInvalid, validate_answer
from app.annotations.masks import encode_mask
from app.assist.errors import (
    BadBox,
    NothingFound,
    PointOutsideImage,
    ToolNotForProject,
    UnknownLabel,
)
from app.core.db import read_only
from app.images import ImageNotFound
from app.images.store import ImageStore
from app.models import Account, Assignment, AssignmentStatus, Image, Project, Task
from app.work.errors import (
    AssignmentClosed,
    AssignmentNotFound,
    ImageNotAvailable,
    LeaseExpired,
)

if TYPE_CHECKING:
    from app.assist import vision

# ``app.assist.vision`` is imported inside the functions that use it: OpenCV and scikit-image
# take ~0.8 s to import, which every ``serve`` and ``worker`` start would pay though most
# projects never ask for assistance.


# Which project types each tool serves.
TOOL_TYPES: dict[str, tuple[str, ...]] = {
    "box_to_polygon": ("polygon",),
    "box_to_mask": ("segmentation",),
    "superpixel": ("segmentation",),
    "snap": ("polygon", "segmentation", "bbox", "points", "keypoints"),
}


@dataclass(frozen=True)
class Suggestion:
    answer: dict[str, Any]
    area: int


@dataclass(frozen=True)
class _Leased:
    spec: AnnotationSpec
    image: Image
    rgb: np.ndarray


def box_to_polygon(
    session: Session,
    store: ImageStore,
    worker: Account,
    assignment_id: str,
    box: tuple[float, float, float, float],
    label: str,
    *,
    now: datetime,
) -> Suggestion:
    """The object in ``box`` outlined by GrabCut, as a one-object polygon answer."""
    leased = _load(session, store, worker, assignment_id, "box_to_polygon", now=now)
    _check_label(leased.spec, label)
    _check_box(leased.image, box)
    from app.assist import vision

    region = vision.largest_object(vision.grabcut(leased.rgb, box))
    ring = vision.outline(region, max_points=MAX_POLYGON_POINTS) if region.area else None
    if ring is None:
        raise NothingFound("GrabCut found no object inside the box; draw the outline by hand.")
    answer = {"objects": [{"label": label, "points": [[x, y] for x, y in ring]}]}
    return Suggestion(_valid(leased, answer), region.area)


def box_to_mask(
    session: Session,
    store: ImageStore,
    worker: Account,
    assignment_id: str,
    box: tuple[float, float, float, float],
    label: str,
    *,
    now: datetime,
) -> Suggestion:
    """The object in ``box`` by GrabCut, as a mask answer with the label's value on it."""
    leased = _load(session, store, worker, assignment_id, "box_to_mask", now=now)
    value = _check_label(leased.spec, label)
    _check_box(leased.image, box)
    from app.assist import vision

    region = vision.largest_object(vision.grabcut(leased.rgb, box))
    if region.area == 0:
        raise NothingFound("GrabCut found no object inside the box; paint it by hand.")
    return Suggestion(_mask_answer(leased, region, value), region.area)


def superpixel(
    session: Session,
    store: ImageStore,
    worker: Account,
    assignment_id: str,
    point: tuple[float, float],
    label: str,
    *,
    segments: int,
    now: datetime,
) -> Suggestion:
    """The SLIC superpixel under ``point``, as a mask answer with the label's value on it."""
    leased = _load(session, store, worker, assignment_id, "superpixel", now=now)
    value = _check_label(leased.spec, label)
    _check_point(leased.image, point)
    from app.assist import vision

    region = vision.superpixel(leased.rgb, point, segments=segments)
    return Suggestion(_mask_answer(leased, region, value), region.area)


def snap(
    session: Session,
    store: ImageStore,
    worker: Account,
    assignment_id: str,
    point: tuple[float, float],
    radius: float,
    *,
    now: datetime,
) -> tuple[tuple[float, float], bool]:
    """The nearest strong edge point within ``radius``, and True; or the point and False."""
    leased = _load(session, store, worker, assignment_id, "snap", now=now)
    _check_point(leased.image, point)
    from app.assist import vision

    found = vision.snap(leased.rgb, point, radius)
    return (found, True) if found is not None else (point, False)


def _load(
    session: Session,
    store: ImageStore,
    worker: Account,
    assignment_id: str,
    tool: str,
    *,
    now: datetime,
) -> _Leased:
    with read_only(session):  # end the read before the image work
        row = session.execute(
            select(Assignment, Image, Project)
            .join(Task, Task.id == Assignment.task_id)
            .join(Image, Image.id == Task.image_id)
            .join(Project, Project.id == Assignment.project_id)
            .where(Assignment.id == assignment_id, Assignment.worker_id == worker.id)
        ).one_or_none()
    if row is None:
        raise AssignmentNotFound(f"No assignment {assignment_id} among yours.")
    assignment, image, project = row
    if assignment.status == AssignmentStatus.expired or (
        assignment.status == AssignmentStatus.leased and assignment.expires_at <= now
    ):
        raise LeaseExpired(f"The lease expired at {assignment.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
    if assignment.status != AssignmentStatus.leased:
        raise AssignmentClosed(f"Assignment {assignment.id} is {assignment.status}.")
    spec = AnnotationSpec.model_validate(project.annotation)
    if spec.type not in TOOL_TYPES[tool]:
        raise ToolNotForProject(
            f"The assist tool {tool} is for {' or '.join(TOOL_TYPES[tool])} projects; "
            f"project {project.id} is {spec.type}."
        )
    try:
        data = store.get(image.sha256)
    except ImageNotFound:
        raise ImageNotAvailable(f"Image {image.id} is missing from the store.") from None
    from app.assist import vision

    return _Leased(spec, image, vision.decode_rgb(data))


def _check_label(spec: AnnotationSpec, label: str) -> int:
    """The label's mask value (its index + 1); 422 if the project has no such label."""
    try:
        return spec.labels.index(label) + 1
    except ValueError:
        raise UnknownLabel(label) from None


def _check_box(image: Image, box: tuple[float, float, float, float]) -> None:
    x, y, w, h = box
    problem = None
    if w < 2 or h < 2:
        problem = "the box must be at least 2 pixels wide and high"
    elif x < 0 or y < 0 or x + w > image.width + 0.5 or y + h > image.height + 0.5:
        problem = f"the box must lie inside the {image.width}x{image.height} image"
    if problem:
        raise BadBox(problem)


def _check_point(image: Image, point: tuple[float, float]) -> None:
    x, y = point
    if not (0 <= x <= image.width and 0 <= y <= image.height):
        raise PointOutsideImage(image.width, image.height)


def _mask_answer(leased: _Leased, region: vision.Region, value: int) -> dict[str, Any]:
    mask = region.full(leased.image.width, leased.image.height).astype(np.uint8) * np.uint8(value)
    return _valid(leased, encode_mask(mask))


def _valid(leased: _Leased, answer: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_answer(
            leased.spec, answer, width=leased.image.width, height=leased.image.height
        )
    except AnswerInvalid as exc:
        # Our own output failed the project's rules: a bug here (a logged 500), never a 4xx.
        raise RuntimeError(f"assist suggestion is not a valid answer: {exc.detail}") from exc
