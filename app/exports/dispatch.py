"""Pick the exporter for a format and annotation type, and say which formats exist.

The formats a type offers, and how each is written, are the type's own
(``AnnotationKind.formats``, app/annotations/types/); this module only looks them up.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator

from app.annotations import AnnotationSpec, annotation_kind
from app.exports.archive import Manifest, ZipStream
from app.exports.base import Export, ExportItem, ExportNotAvailable, ImageReader
from app.exports.naming import UniqueStems

__all__ = ["FORMATS", "export", "formats_for", "image_archive", "needs_images"]

_MIN_CHUNK = 64 * 1024

FORMATS = ("coco", "yolo", "voc", "csv", "masks", "folders", "cvat", "datumaro", "labelstudio")
"""Every file format some annotation type offers (the results endpoint's ``format`` values)."""


def formats_for(annotation_type: str) -> tuple[str, ...]:
    """The file formats available for an annotation type, in the order the type lists them."""
    return tuple(annotation_kind(annotation_type).formats)


def needs_images(format: str, annotation_type: str) -> bool:
    """Whether ``format`` is made of the images (always has them); False for unknown formats."""
    fmt = annotation_kind(annotation_type).formats.get(format)
    return fmt is not None and fmt.images_required


def image_archive(items: Iterable[ExportItem], images: ImageReader) -> Export:
    """Every image of a batch under its name, plus ``tessera/manifest.csv`` (task of each file)."""
    return Export(
        format="images",
        media_type="application/zip",
        filename_suffix="_images.zip",
        chunks=_coalesce(_images_chunks(items, images)),
    )


def _images_chunks(items: Iterable[ExportItem], images: ImageReader) -> Iterator[bytes]:
    archive, manifest = ZipStream(), Manifest()
    try:
        stems = UniqueStems()
        for item in items:
            stems.stem(item.task_id, item.image_name)
            manifest.add(item, item.image_name)
            yield archive.add(item.image_name, images(item), compress=False)
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


def export(
    format: str,
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    *,
    images: ImageReader | None = None,
) -> Export:
    """Export a batch's consensus results in ``format`` (one of ``formats_for(spec.type)``).

    With ``images`` (reads one item's image bytes) the download is a zip holding the images as
    well, laid out as the format's tools expect (see each format's module); a format made of
    the images (``folders``) needs it. Raises ``ExportNotAvailable`` at once, before any item
    is read, when the format is unknown or does not exist for ``spec.type``; the router can turn
    it into a 4xx before streaming. ``items`` is read lazily, once, while ``chunks`` is
    consumed; chunks are at least 64 KiB except the last. Items without consensus
    (``answer=None``) are exported without objects. A consensus label outside ``spec.labels``
    or a name that is not unique raises ``ValueError`` mid-stream (a data bug).
    """
    fmt = annotation_kind(spec.type).formats.get(format)
    if fmt is None:
        raise ExportNotAvailable(format, spec.type, formats_for(spec.type))
    if fmt.images_required and images is None:
        raise ValueError(f"the {format} export is made of the images: give an image reader")
    media_type, suffix = fmt.packaging(images is not None)
    return Export(
        format=format,
        media_type=media_type,
        filename_suffix=suffix,
        chunks=_coalesce(fmt.writer(spec, items, images)),
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
