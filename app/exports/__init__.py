"""Batch result exports in standard formats: COCO, YOLO, Pascal VOC, CSV and PNG masks.

Pure code (no database, no HTTP): the results router builds one ``ExportItem`` per task from a
batch's consensus and streams ``export(format, spec, items).chunks`` as the response body.

    >>> from app.annotations import AnnotationSpec
    >>> spec = AnnotationSpec(type="bbox", labels=["car"])
    >>> item = ExportItem("tsk_1", "a.jpg", 100, 50, {"objects": []}, 0.9, 3)
    >>> result = export("yolo", spec, [item])
    >>> result.media_type, result.filename_suffix
    ('application/zip', '_yolo.zip')

Formats per annotation type (``formats_for``):

- classification, multilabel: ``csv``
- bbox, polygon: ``coco``, ``yolo``, ``voc``
- keypoints: ``coco``, ``yolo`` (pose)
- segmentation: ``coco`` (RLE, COCO-Stuff style), ``masks``
"""

from app.exports.base import Export, ExportItem, ExportNotAvailable
from app.exports.dispatch import FORMATS, export, formats_for
from app.exports.naming import UniqueStems, name_stem

__all__ = [
    "FORMATS",
    "Export",
    "ExportItem",
    "ExportNotAvailable",
    "UniqueStems",
    "export",
    "formats_for",
    "name_stem",
]
