"""Pick the exporter for a format and annotation type, and say which formats exist."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import NamedTuple

from app.annotations import AnnotationSpec, AnnotationType
from app.exports.base import Export, ExportItem, ExportNotAvailable
from app.exports.coco import coco_chunks
from app.exports.masks import mask_chunks
from app.exports.tabular import csv_chunks
from app.exports.voc import voc_chunks
from app.exports.yolo import yolo_chunks

__all__ = ["FORMATS", "export", "formats_for"]

_ZIP = "application/zip"
_MIN_CHUNK = 64 * 1024


class _Format(NamedTuple):
    media_type: str
    filename_suffix: str
    writer: Callable[[AnnotationSpec, Iterable[ExportItem]], Iterator[bytes]]
    types: frozenset[AnnotationType]


_T = AnnotationType
FORMATS: dict[str, _Format] = {
    "coco": _Format(
        "application/json",
        "_coco.json",
        coco_chunks,
        frozenset({_T.BBOX, _T.POLYGON, _T.KEYPOINTS, _T.SEGMENTATION}),
    ),
    "yolo": _Format(_ZIP, "_yolo.zip", yolo_chunks, frozenset({_T.BBOX, _T.POLYGON, _T.KEYPOINTS})),
    "voc": _Format(_ZIP, "_voc.zip", voc_chunks, frozenset({_T.BBOX, _T.POLYGON})),
    "csv": _Format(
        "text/csv; charset=utf-8", ".csv", csv_chunks, frozenset({_T.CLASSIFICATION, _T.MULTILABEL})
    ),
    "masks": _Format(_ZIP, "_masks.zip", mask_chunks, frozenset({_T.SEGMENTATION})),
}
"""Every file format, what it is sent as, and the annotation types it exists for."""


def formats_for(annotation_type: AnnotationType | str) -> tuple[str, ...]:
    """The file formats available for an annotation type, in a stable order."""
    kind = AnnotationType(annotation_type)
    return tuple(name for name, fmt in FORMATS.items() if kind in fmt.types)


def export(format: str, spec: AnnotationSpec, items: Iterable[ExportItem]) -> Export:
    """Export a batch's consensus results in ``format`` (``coco``, ``yolo``, ``voc``, ``csv``,
    ``masks``).

    Raises ``ExportNotAvailable`` at once, before any item is read, when the format is unknown
    or does not exist for ``spec.type``; the router can turn it into a 4xx before streaming.
    ``items`` is read lazily, once, while ``chunks`` is consumed; chunks are at least 64 KiB
    except the last. Items without consensus (``answer=None``) are exported without objects.
    A consensus label outside ``spec.labels`` raises ``ValueError`` mid-stream (a data bug).
    """
    fmt = FORMATS.get(format)
    if fmt is None or spec.type not in fmt.types:
        raise ExportNotAvailable(format, str(spec.type), formats_for(spec.type))
    return Export(
        format=format,
        media_type=fmt.media_type,
        filename_suffix=fmt.filename_suffix,
        chunks=_coalesce(fmt.writer(spec, items)),
    )


def _coalesce(chunks: Iterator[bytes]) -> Generator[bytes, None, None]:
    pending: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            pending.append(chunk)
            size += len(chunk)
            if size >= _MIN_CHUNK:
                yield b"".join(pending)
                pending.clear()
                size = 0
        if size:
            yield b"".join(pending)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
