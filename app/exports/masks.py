"""Semantic mask datasets for segmentation projects: PNG masks, and the Pascal VOC tree.

``masks`` (Datumaro's "common semantic segmentation" layout):

- ``images/<name>`` (with ``images=true``), ``masks/<stem>.png``: 8-bit grayscale, the image's
  size, pixel value ``k`` = label ``k-1``, 0 = none, exactly as in the answers (the consensus
  PNG is copied as stored: it is already canonical, see ``app.annotations.encode_mask``);
- ``dataset_meta.json``: ``label_map`` (``"0": "background"``, then ``"k"``: label ``k-1``) and
  ``segmentation_colors`` (``[k, k, k]``: the mask's gray level ``k``);
- ``classes.txt`` (line ``k``, 1-based, is pixel value ``k``) and ``tessera/manifest.csv``.

``voc`` (Pascal VOC segmentation): ``JPEGImages/<name>``, ``SegmentationClass/<stem>.png``
(the same pixel values in a palette PNG whose colours are the VOC palette, so both index and
colour readers get the labels), ``ImageSets/Segmentation/default.txt`` and ``labelmap.txt``
(``background`` then each label with its palette colour).

An image without consensus gets an all-zero mask, and ``tessera/manifest.csv`` marks it
``has_consensus`` 0. The stem is the image's name without its extension
(``app.exports.naming``).
"""

from __future__ import annotations

import base64
import io
import json
import struct
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from app.exports.archive import Manifest, Spool, ZipStream
from app.exports.base import ExportFormat, ExportItem, ImageReader
from app.exports.naming import UniqueStems
from app.exports.voc import labelmap_txt, subset_line, voc_colour
from app.exports.yolo import classes_txt

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["MASKS", "VOC_MASKS", "dataset_meta", "mask_chunks", "voc_mask_chunks"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def mask_chunks(
    spec: AnnotationSpec, items: Iterable[ExportItem], images: ImageReader | None = None
) -> Iterator[bytes]:
    """Yield the masks zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        yield archive.add("classes.txt", classes_txt(spec))
        yield archive.add("dataset_meta.json", dataset_meta(spec))
        stems = UniqueStems()
        for item in items:
            stem = stems.stem(item.task_id, item.image_name)
            if images is not None:
                yield archive.add(f"images/{item.image_name}", images(item), compress=False)
            name = f"masks/{stem}.png"
            manifest.add(item, name)
            yield archive.add(name, _png(item), compress=False)
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


def voc_mask_chunks(
    spec: AnnotationSpec, items: Iterable[ExportItem], images: ImageReader | None = None
) -> Iterator[bytes]:
    """Yield the VOC segmentation zip for ``items`` (see the module docstring)."""
    archive, manifest, ids = ZipStream(), Manifest(), Spool()
    palette = [c for index in range(256) for c in voc_colour(index)]
    try:
        yield archive.add("labelmap.txt", labelmap_txt(spec))
        stems = UniqueStems()
        for item in items:
            stem = stems.stem(item.task_id, item.image_name)
            if images is not None:
                yield archive.add(f"JPEGImages/{item.image_name}", images(item), compress=False)
            name = f"SegmentationClass/{stem}.png"
            manifest.add(item, name)
            ids.write(subset_line(stem))
            yield archive.add(name, _palette_png(_png(item), palette), compress=False)
        yield from ids.write_to(archive, "ImageSets/Segmentation/default.txt")
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        ids.close()
        manifest.close()


def dataset_meta(spec: AnnotationSpec) -> bytes:
    """Datumaro's ``dataset_meta.json`` for the gray-level masks."""
    label_map = {"0": "background", **{str(k): label for k, label in enumerate(spec.labels, 1)}}
    colours = [[k, k, k] for k in range(len(spec.labels) + 1)]
    meta = {"label_map": label_map, "segmentation_colors": colours}
    return json.dumps(meta, ensure_ascii=False, indent=1).encode()


def _palette_png(gray_png: bytes, palette: list[int]) -> bytes:
    with Image.open(io.BytesIO(gray_png)) as gray:
        indexed = Image.frombytes("P", gray.size, gray.tobytes())
    indexed.putpalette(palette)
    buffer = io.BytesIO()
    indexed.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _png(item: ExportItem) -> bytes:
    if item.answer is None:
        buffer = io.BytesIO()
        blank = np.zeros((item.height, item.width), dtype=np.uint8)
        Image.fromarray(blank).save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
    data = base64.b64decode(item.answer["mask_png_base64"], validate=True)
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError(f"task {item.task_id}: the consensus mask is not a PNG")
    size = struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else None
    if size != (item.width, item.height):
        raise ValueError(
            f"task {item.task_id}: the consensus mask is {size}, the image "
            f"{(item.width, item.height)}"
        )
    return data


MASKS = ExportFormat("application/zip", "_masks.zip", mask_chunks)
"""The ``masks`` format (semantic segmentation)."""

VOC_MASKS = ExportFormat("application/zip", "_voc.zip", voc_mask_chunks)
"""The ``voc`` format of segmentation projects (``SegmentationClass/``)."""
