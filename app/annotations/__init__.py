"""Annotation specs, answer validation and the registry of annotation types.

Each type lives in one module of ``app/annotations/types/`` and is found by name with
``annotation_kind(name)`` (see ``app.annotations.registry``).

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
from app.annotations.registry import (
    AnnotationKind,
    SpecRules,
    UnknownAnnotationType,
    annotation_kind,
    annotation_kinds,
    type_names,
)
from app.annotations.spec import AnnotationSpec

__all__ = [
    "COORD_TOLERANCE",
    "MAX_LABELS",
    "MAX_OBJECTS",
    "MAX_POLYGON_POINTS",
    "MAX_SEGMENTATION_LABELS",
    "MAX_TOTAL_POINTS",
    "AnnotationKind",
    "AnnotationSpec",
    "AnswerInvalid",
    "SpecRules",
    "UnknownAnnotationType",
    "annotation_kind",
    "annotation_kinds",
    "decode_mask",
    "encode_mask",
    "type_names",
    "validate_answer",
]
