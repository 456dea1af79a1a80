"""Annotation specs and answer validation, for every annotation type of API.md.

Pure code (pydantic, numpy, Pillow, shapely): no database, no HTTP. The project service
validates a project's ``annotation`` with ``AnnotationSpec``; the work service checks each
submitted (and gold) answer with ``validate_answer``; consensus decodes masks with
``decode_mask`` and writes them back with ``encode_mask``.

    >>> spec = AnnotationSpec(type="bbox", labels=["car", "person"])
    >>> validate_answer(spec, {"objects": [{"label": "car", "box": [1, 2, 3, 4]}]},
    ...                 width=100, height=100)
    {'objects': [{'label': 'car', 'box': [1.0, 2.0, 3.0, 4.0]}]}
"""

from app.annotations.answers import validate_answer
from app.annotations.errors import AnswerInvalid
from app.annotations.limits import (
    COORD_TOLERANCE,
    MAX_LABELS,
    MAX_OBJECTS,
    MAX_POLYGON_POINTS,
    MAX_SEGMENTATION_LABELS,
    MAX_TOTAL_POINTS,
)
from app.annotations.masks import decode_mask, encode_mask
from app.annotations.spec import DEFAULT_KEYPOINT_LABELS, AnnotationSpec, AnnotationType

__all__ = [
    "COORD_TOLERANCE",
    "DEFAULT_KEYPOINT_LABELS",
    "MAX_LABELS",
    "MAX_OBJECTS",
    "MAX_POLYGON_POINTS",
    "MAX_SEGMENTATION_LABELS",
    "MAX_TOTAL_POINTS",
    "AnnotationSpec",
    "AnnotationType",
    "AnswerInvalid",
    "decode_mask",
    "encode_mask",
    "validate_answer",
]
