"""PNG mask decoding/encoding: the only place Pillow is used."""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError


def decode_mask_png(data: str | bytes) -> NDArray[np.uint8]:
    """Base64 (or raw) PNG bytes -> 2-D uint8 array; value k = label k-1, 0 = none.

    Palette ("P") PNGs keep their indices, which is what label masks usually are; other 8-bit
    greyscale modes are taken as-is; anything else is refused rather than silently converted,
    because converting RGB to grey would invent label values.
    """
    raw = data if isinstance(data, bytes) else _b64(data)
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.mode not in ("L", "P", "1"):
                raise ValueError(f"mask PNG must be 8-bit single-channel, got mode {im.mode}")
            arr = np.array(im.convert("L") if im.mode == "1" else im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"mask is not a readable PNG: {exc}") from exc
    if im.mode == "1":
        arr = (arr > 0).astype(np.uint8)
    return arr


def encode_mask_png(mask: NDArray[np.uint8]) -> str:
    """2-D uint8 array -> base64 PNG (mode "L")."""
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError("mask must be 2-D")
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _b64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("mask_png_base64 is not valid base64") from exc
