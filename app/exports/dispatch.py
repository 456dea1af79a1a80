"""Pick the exporter for a format and annotation type, and say which formats exist.

The formats a type offers, and how each is written, are the type's own
(``AnnotationKind.formats``, app/annotations/types/); this module only looks them up.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator

from app.annotations import AnnotationSpec, annotation_kind
from app.exports.base import Export, ExportItem, ExportNotAvailable

__all__ = ["FORMATS", "export", "formats_for"]

_MIN_CHUNK = 64 * 1024

FORMATS = ("coco", "yolo", "voc", "csv", "masks")
"""Every file format some annotation type offers (the results endpoint's ``format`` values)."""


def formats_for(annotation_type: str) -> tuple[str, ...]:
    """The file formats available for an annotation type, in the order the type lists them."""
    return tuple(annotation_kind(annotation_type).formats)


def export(format: str, spec: AnnotationSpec, items: Iterable[ExportItem]) -> Export:
    """Export a batch's consensus results in ``format`` (one of ``formats_for(spec.type)``).

    Raises ``ExportNotAvailable`` at once, before any item is read, when the format is unknown
    or does not exist for ``spec.type``; the router can turn it into a 4xx before streaming.
    ``items`` is read lazily, once, while ``chunks`` is consumed; chunks are at least 64 KiB
    except the last. Items without consensus (``answer=None``) are exported without objects.
    A consensus label outside ``spec.labels`` raises ``ValueError`` mid-stream (a data bug).
    """
    fmt = annotation_kind(spec.type).formats.get(format)
    if fmt is None:
        raise ExportNotAvailable(format, spec.type, formats_for(spec.type))
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
