"""Record-level entry point used by the CLI: JSON-shaped answers in, consensus and skills out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consensus._kinds import GEOMETRY_TYPES
from consensus.geometry._common import Agreement, FloatArray
from consensus.geometry.boxes import Boxes, aggregate_boxes, box_agreement
from consensus.geometry.io import decode_mask_png, encode_mask_png
from consensus.geometry.keypoints import (
    Poses,
    aggregate_keypoints,
    default_sigmas,
    flip_pairs_from_names,
    keypoint_agreement,
)
from consensus.geometry.points import Points, aggregate_points, match_radius, point_agreement
from consensus.geometry.polygons import Polygons, aggregate_polygons, polygon_agreement
from consensus.geometry.segmentation import Mask, aggregate_semantic, semantic_agreement
from consensus.geometry.skills import GeometrySkills, TaskAnswers, fit_skills, leave_one_out


@dataclass(frozen=True)
class Kind:
    """How one annotation type is parsed, aggregated, compared and written back."""

    parse: Callable[[Mapping[str, Any]], Any]
    aggregate: Callable[[Sequence[Any], FloatArray, FloatArray], Any]
    agree: Callable[[Any, Any], Agreement]
    answer_of: Callable[[Any], Any]  # consensus -> parsed answer (for agreement)
    dump: Callable[[Any], dict[str, Any]]  # consensus -> API-shaped answer


@dataclass(frozen=True)
class KindOptions:
    """What a project and an image tell a ``Kind``; each type uses what it needs."""

    keypoint_names: Sequence[str] | None = None
    """Keypoint names: they choose COCO sigmas and left/right flip pairs (keypoints)."""
    image_size: tuple[int, int] | None = None
    """``(height, width)`` to clip polygons to and to scale distance gates (points)."""
    quorum: float = 0.5
    """Share of a task's presence weight that must have drawn an object to keep it."""


def box_kind(options: KindOptions) -> Kind:
    """Boxes: IoU matching, weighted-median edges (``consensus.geometry.boxes``)."""
    return Kind(
        Boxes.from_answer,
        lambda a, w, pw: aggregate_boxes(a, w, presence_weights=pw, quorum=options.quorum),
        box_agreement,
        lambda c: c.boxes,
        lambda c: c.boxes.to_answer(),
    )


def polygon_kind(options: KindOptions) -> Kind:
    """Polygons: mask IoU matching, fused by pixel vote (``consensus.geometry.polygons``)."""
    return Kind(
        lambda a: Polygons.from_answer(a, options.image_size),
        lambda a, w, pw: aggregate_polygons(a, w, presence_weights=pw, quorum=options.quorum),
        polygon_agreement,
        lambda c: c.polygons,
        lambda c: c.polygons.to_answer(),
    )


def semantic_kind(_: KindOptions) -> Kind:
    """Semantic masks: weighted pixel vote (``consensus.geometry.segmentation``)."""
    return Kind(
        _parse_mask,
        lambda a, w, _pw: aggregate_semantic(a, w),
        semantic_agreement,
        lambda c: c.mask,
        lambda c: {"mask_png_base64": encode_mask_png(c.mask)},
    )


def keypoint_kind(options: KindOptions) -> Kind:
    """Keypoints: OKS matching with left/right swaps, weighted medians
    (``consensus.geometry.keypoints``); the names choose sigmas and flip pairs."""
    names = options.keypoint_names
    k = len(names) if names is not None else None
    sig = default_sigmas(names, len(names)) if names is not None else None
    pairs = flip_pairs_from_names(names)

    def agg(answers: Sequence[Poses], w: FloatArray, pw: FloatArray) -> Any:
        return aggregate_keypoints(
            answers, w, presence_weights=pw, sigmas=sig, flip_pairs=pairs, quorum=options.quorum
        )

    def agree(a: Poses, c: Poses) -> Agreement:
        return keypoint_agreement(a, c, sigmas=sig, flip_pairs=pairs)

    return Kind(
        lambda a: Poses.from_answer(a, k),
        agg,
        agree,
        lambda c: c.poses,
        lambda c: c.poses.to_answer(),
    )


def point_kind(options: KindOptions) -> Kind:
    """Labelled points: distance-gated matching, weighted medians (``consensus.geometry.points``)."""
    radius = match_radius(options.image_size)
    return Kind(
        Points.from_answer,
        lambda a, w, pw: aggregate_points(
            a, w, presence_weights=pw, radius=radius, quorum=options.quorum
        ),
        lambda a, c: point_agreement(a, c, radius=radius),
        lambda c: c.points,
        lambda c: c.points.to_answer(),
    )


KINDS: dict[str, Callable[[KindOptions], Kind]] = {
    "bbox": box_kind,
    "polygon": polygon_kind,
    "segmentation": semantic_kind,
    "keypoints": keypoint_kind,
    "points": point_kind,
}
"""The geometry types this library aggregates, by their API.md name (the CLI's ``--type``)."""

TYPES = tuple(KINDS)
if TYPES != GEOMETRY_TYPES:  # the CLI offers GEOMETRY_TYPES without importing this module
    raise RuntimeError(f"consensus._kinds.GEOMETRY_TYPES {GEOMETRY_TYPES} != KINDS {TYPES}")


def kind_for(
    annotation_type: str,
    *,
    keypoint_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = None,
    quorum: float = 0.5,
) -> Kind:
    """The adapter for ``annotation_type``; keypoint names choose sigmas and flip pairs."""
    factory = KINDS.get(annotation_type)
    if factory is None:
        raise ValueError(
            f"unknown geometry annotation type {annotation_type!r}; expected one of {TYPES}"
        )
    return factory(KindOptions(keypoint_names, image_size, quorum))


def _parse_mask(answer: Mapping[str, Any]) -> Mask:
    data = answer.get("mask_png_base64")
    if not isinstance(data, str):
        raise ValueError("segmentation answer needs 'mask_png_base64'")
    return decode_mask_png(data)


def grade_task(
    kind: Kind, workers: Sequence[str], answers: Sequence[Any], skills: GeometrySkills
) -> list[Agreement | None]:
    """Leave-one-out agreement of each answer of one closed task, for ``skills.update``."""
    return leave_one_out(workers, answers, kind.aggregate, kind.agree, kind.answer_of, skills)


def group_records(
    records: Sequence[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], Any]
) -> list[TaskAnswers[Any]]:
    """Group by task (first-seen order); a worker's later answer to a task replaces the earlier."""
    by_task: dict[str, dict[str, Any]] = {}
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping) or not {"task", "worker", "answer"} <= rec.keys():
            raise ValueError(f"record {n}: needs 'task', 'worker' and 'answer'")
        if not isinstance(rec["answer"], Mapping):
            raise ValueError(f"record {n}: 'answer' must be an object")
        try:
            parsed = parse(rec["answer"])
        except ValueError as exc:
            raise ValueError(f"record {n}: {exc}") from exc
        by_task.setdefault(str(rec["task"]), {})[str(rec["worker"])] = parsed
    return [TaskAnswers(t, tuple(ws), tuple(ws.values())) for t, ws in by_task.items()]


def aggregate_records(
    annotation_type: str,
    records: list[dict[str, Any]],
    *,
    skills: GeometrySkills | Mapping[str, Any] | None = None,
    gold: Mapping[str, Mapping[str, Any]] | None = None,
    keypoint_names: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = None,
    quorum: float = 0.5,
    n_passes: int = 3,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Aggregate JSON-lines style records of one geometry type.

    Args:
        annotation_type: "bbox", "polygon", "segmentation" or "keypoints".
        records: ``{"task", "worker", "answer"}`` with answers in API.md shapes.
        skills: skills carried from earlier batches (a ``GeometrySkills`` or its ``to_dict()``).
        gold: known answers by task id (API shape), used to grade workers.
        keypoint_names: the project's keypoint names (COCO sigmas and left/right pairs by name);
            without them every keypoint gets sigma 0.05 and no swap alignment.
        image_size: ``(height, width)`` to clip polygons to, when all tasks share one.
        quorum: share of a task's presence weight that must have drawn an object to keep it
            (boxes, polygons, keypoints); 0.5 by default, lower trades precision for recall.
        n_passes: EM-style leave-one-out passes for the skills.

    Returns:
        ``([{"task", "answer", "confidence"}], skills.to_dict())``.

    Raises:
        ValueError: on a malformed record, naming the 1-based record number.
    """
    kind = kind_for(
        annotation_type, keypoint_names=keypoint_names, image_size=image_size, quorum=quorum
    )
    prior = _prior_skills(annotation_type, skills)
    tasks = group_records(records, kind.parse)
    parsed_gold = {t: kind.parse(a) for t, a in (gold or {}).items()}
    fitted = fit_skills(tasks, kind.aggregate, kind.agree, kind.answer_of,
                        prior=prior, gold=parsed_gold, n_passes=n_passes)  # fmt: skip
    results = []
    for t in tasks:
        cons = kind.aggregate(
            list(t.answers), fitted.weights(t.workers), fitted.presence_weights(t.workers)
        )
        results.append(
            {
                "task": t.task,
                "answer": kind.dump(cons),
                "confidence": round(float(cons.confidence), 6),
            }
        )
    return results, fitted.to_dict()


def _prior_skills(
    annotation_type: str, skills: GeometrySkills | Mapping[str, Any] | None
) -> GeometrySkills:
    if skills is None:
        return GeometrySkills(annotation_type)
    out = skills.copy() if isinstance(skills, GeometrySkills) else GeometrySkills.from_dict(skills)
    if out.annotation_type != annotation_type:
        raise ValueError(f"skills are for {out.annotation_type!r}, not {annotation_type!r}")
    return out
