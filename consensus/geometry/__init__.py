"""Geometry consensus: boxes, polygons, semantic masks, keypoints and points, with worker reliability.

Each type has an estimator class with its parameters and fitted attributes, like the
classification ones (``BoxAggregator``, ``PolygonAggregator``, ``KeypointAggregator``,
``PointAggregator``, ``MaskAggregator``: ``fit(answers, weights, presence_weights=...)``
returns self; ``consensus_``, ``confidence_``, ``objects_``...). The per-object types share one
matching skeleton, ``consensus.geometry._objects.ObjectAggregator``. The array-level functions
(``aggregate_*``, ``*_agreement``) are one-call wrappers of those; they serve the service,
which already has decoded answers; ``aggregate_records`` serves the CLI. Worker skills (``GeometrySkills``) carry
reliability across tasks and serialise to a plain JSON dict; ``should_stop`` is the dynamic
overlap rule that acts on each consensus's ``confidence``.

Service flow for one task (boxes; the other types are the same with their own names)::

    skills = GeometrySkills.from_dict(stored) if stored else GeometrySkills("bbox")
    answers = [Boxes.from_answer(a) for a in raw_answers]
    cons = aggregate_boxes(answers, skills.weights(workers),
                           presence_weights=skills.presence_weights(workers))
    done = should_stop(cons.confidence, len(answers), min_answers=2, max_answers=5, target=0.9)
    verdicts = [box_agreement(a, cons.boxes) for a in answers]   # .accepted, .reason
    # when the task closes: grade against the others' consensus, then store skills.to_dict()
    kind = kind_for("bbox")
    for w, ag in zip(workers, grade_task(kind, workers, answers, skills)):
        if ag is not None:
            skills.update(w, ag)
"""

from consensus.geometry._common import Agreement
from consensus.geometry._objects import FusedObject, ObjectAggregator
from consensus.geometry.boxes import (
    BoxAggregator,
    BoxConsensus,
    Boxes,
    aggregate_boxes,
    box_agreement,
    iou_matrix,
)
from consensus.geometry.io import decode_mask_png, encode_mask_png
from consensus.geometry.keypoints import (
    COCO_KEYPOINTS,
    COCO_SIGMAS,
    KeypointAggregator,
    KeypointConsensus,
    Poses,
    aggregate_keypoints,
    default_sigmas,
    flip_pairs_from_names,
    keypoint_agreement,
    oks_matrix,
)
from consensus.geometry.points import (
    PointAggregator,
    PointConsensus,
    Points,
    aggregate_points,
    match_radius,
    point_agreement,
)
from consensus.geometry.polygons import (
    PolygonAggregator,
    PolygonConsensus,
    Polygons,
    aggregate_polygons,
    polygon_agreement,
)
from consensus.geometry.raster import MaskCrop, mask_to_polygon, rasterize_polygon
from consensus.geometry.records import (
    KINDS,
    TYPES,
    Kind,
    KindOptions,
    aggregate_records,
    box_kind,
    grade_task,
    keypoint_kind,
    kind_for,
    point_kind,
    polygon_kind,
    semantic_kind,
)
from consensus.geometry.segmentation import (
    MaskAggregator,
    SemanticConsensus,
    aggregate_semantic,
    per_class_iou,
    semantic_agreement,
)
from consensus.geometry.skills import GeometrySkills, TaskAnswers, fit_skills, leave_one_out
from consensus.geometry.stopping import should_stop

__all__ = [
    "COCO_KEYPOINTS",
    "COCO_SIGMAS",
    "KINDS",
    "TYPES",
    "Agreement",
    "BoxAggregator",
    "BoxConsensus",
    "Boxes",
    "FusedObject",
    "GeometrySkills",
    "KeypointAggregator",
    "KeypointConsensus",
    "Kind",
    "KindOptions",
    "MaskAggregator",
    "MaskCrop",
    "ObjectAggregator",
    "PointAggregator",
    "PointConsensus",
    "Points",
    "PolygonAggregator",
    "PolygonConsensus",
    "Polygons",
    "Poses",
    "SemanticConsensus",
    "TaskAnswers",
    "aggregate_boxes",
    "aggregate_keypoints",
    "aggregate_points",
    "aggregate_polygons",
    "aggregate_records",
    "aggregate_semantic",
    "box_agreement",
    "box_kind",
    "decode_mask_png",
    "default_sigmas",
    "encode_mask_png",
    "fit_skills",
    "flip_pairs_from_names",
    "grade_task",
    "iou_matrix",
    "keypoint_agreement",
    "keypoint_kind",
    "kind_for",
    "leave_one_out",
    "mask_to_polygon",
    "match_radius",
    "oks_matrix",
    "per_class_iou",
    "point_agreement",
    "point_kind",
    "polygon_agreement",
    "polygon_kind",
    "rasterize_polygon",
    "semantic_agreement",
    "semantic_kind",
    "should_stop",
]
