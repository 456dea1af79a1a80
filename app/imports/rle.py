"""Run-length encoded masks back to arrays: COCO's (uncompressed counts, or the compressed
string ``app.exports.shapes.rle_string`` writes) and CVAT's (``app.exports.cvat.cvat_rle``)."""

from __future__ import annotations

import numpy as np

__all__ = ["coco_mask", "cvat_mask", "string_counts"]


def _runs(counts: list[int], size: int) -> np.ndarray:
    if any(c < 0 for c in counts) or sum(counts) != size:
        raise ValueError(f"the runs cover {sum(counts)} pixels, the mask has {size}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    return np.repeat(values, counts)


def coco_mask(counts: list[int], height: int, width: int) -> np.ndarray:
    """A COCO RLE (column-major runs, zeros first) as a ``(height, width)`` boolean array."""
    return _runs(counts, height * width).reshape((width, height)).T


def string_counts(text: str) -> list[int]:
    """COCO's compressed RLE string as its run lengths (``rleFrString``)."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise ValueError("the RLE string ends inside a number")
            chunk = ord(text[position]) - 48
            if not 0 <= chunk < 64:
                raise ValueError(f"character {text[position]!r} is not in an RLE string")
            value |= (chunk & 0x1F) << (5 * shift)
            more = bool(chunk & 0x20)
            position += 1
            shift += 1
            if not more and chunk & 0x10:
                value |= -1 << (5 * shift)
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def cvat_mask(
    runs: list[int], left: int, top: int, width: int, height: int, size: tuple[int, int]
) -> np.ndarray:
    """CVAT's mask (row-major runs of its box, zeros first) in an image of ``size`` (w, h)."""
    image_width, image_height = size
    if left < 0 or top < 0 or left + width > image_width or top + height > image_height:
        raise ValueError("the mask's box is outside the image")
    mask = np.zeros((image_height, image_width), dtype=bool)
    mask[top : top + height, left : left + width] = _runs(runs, width * height).reshape(
        (height, width)
    )
    return mask
