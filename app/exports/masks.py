"""PNG mask zips for segmentation projects.

The archive holds ``classes.txt`` (one label per line: line ``k`` (1-based) is pixel value
``k``; 0 is "none"), one ``masks/<stem>.png`` per image (8-bit grayscale, the image's size,
pixel value ``k`` = label ``k-1``, exactly as in the answers) and ``manifest.csv`` (the stem is
the image's name without its extension, see ``app.exports.naming``). The consensus PNG is copied as stored
(it is already canonical, see ``app.annotations.encode_mask``); an image without consensus
gets an all-zero mask, and ``manifest.csv`` marks it ``has_consensus`` 0.
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from app.exports.archive import Manifest, ZipStream
from app.exports.base import ExportFormat, ExportItem
from app.exports.naming import UniqueStems
from app.exports.yolo import classes_txt

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["MASKS", "mask_chunks"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def mask_chunks(spec: AnnotationSpec, items: Iterable[ExportItem]) -> Iterator[bytes]:
    """Yield the masks zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        yield archive.add("classes.txt", classes_txt(spec))
        stems = UniqueStems()
        for item in items:
            name = f"masks/{stems.stem(item.task_id, item.image_name)}.png"
            manifest.add(item, name)
            yield archive.add(name, _png(item), compress=False)
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


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
