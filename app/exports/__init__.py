"""Batch result exports in standard formats: COCO, YOLO, Pascal VOC, CSV and PNG masks.

Pure code (no database, no HTTP): the results router builds one ``ExportItem`` per task from a
batch's consensus and streams ``export(format, spec, items).chunks`` as the response body.

    >>> from app.annotations import AnnotationSpec
    >>> spec = AnnotationSpec(type="bbox", labels=["car"])
    >>> item = ExportItem("tsk_1", "a.jpg", 100, 50, {"objects": []}, 0.9, 3)
    >>> result = export("yolo", spec, [item])
    >>> result.media_type, result.filename_suffix
    ('application/zip', '_yolo.zip')

Formats per annotation type (``formats_for``), each a dataset its tools load as it is; with
``images=`` (an ``ImageReader``) every download is a zip that holds the images under their
names too (``images/`` for COCO, YOLO, masks and CSV, ``JPEGImages/`` for VOC):

- classification: ``csv``, ``folders`` (``train/<label>/<name>``, always with the images)
- multilabel: ``csv``
- bbox, polygon: ``coco``, ``yolo``, ``voc``
- keypoints: ``coco`` (with ``sigmas``), ``yolo`` (pose, ``kpt_shape``, ``flip_idx``)
- points: ``coco`` (one-keypoint objects), ``csv``
- segmentation: ``coco`` (RLE, COCO-Stuff style), ``masks`` (with ``dataset_meta.json``),
  ``voc`` (``SegmentationClass/``)

Names: every file is named after the image's stored name, made unique per batch at upload
(``app.images.names``); ``image_archive`` is the images alone (``GET .../images.zip``).
"""

from app.exports.base import Export, ExportItem, ExportNotAvailable, ImageReader
from app.exports.dispatch import FORMATS, export, formats_for, image_archive, needs_images
from app.exports.naming import UniqueStems, name_stem

__all__ = [
    "FORMATS",
    "Export",
    "ExportItem",
    "ExportNotAvailable",
    "ImageReader",
    "UniqueStems",
    "export",
    "formats_for",
    "image_archive",
    "name_stem",
    "needs_images",
]
