"""Segmentation masks: an 8-bit single-channel PNG of the image's exact size, base64 in JSON.

Pixel value ``k`` means label ``k-1`` and 0 means "no label" (API.md). The PNG header is read by
hand before Pillow sees the file: its size must equal the image's, which is also the guard
against decompression bombs (the decoded mask can never be bigger than width x height bytes).
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from typing import Any

import numpy as np
from PIL import Image

from app.annotations.errors import AnswerInvalid, ErrorList, Loc
from app.annotations.fields import ANSWER, Context, read_object, type_name
from app.annotations.limits import MAX_MASK_PNG_BYTES

__all__ = ["decode_mask", "encode_mask", "validate_segmentation"]

MASK_KEY = "mask_png_base64"
_LOC: Loc = [*ANSWER, MASK_KEY]
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Browsers' canvas.toDataURL() gives this prefix; accepting it saves every web client a strip.
_DATA_URL_PREFIX = "data:image/png;base64,"
# 4 characters per 3 bytes, plus slack for line breaks and the data URL prefix.
_MAX_BASE64_CHARS = 4 * (MAX_MASK_PNG_BYTES // 3 + 1) * 26 // 25 + len(_DATA_URL_PREFIX)
_COLOUR_TYPES = {
    0: "grayscale",
    2: "RGB",
    3: "palette",
    4: "grayscale with alpha",
    6: "RGBA",
}


def validate_segmentation(ctx: Context, answer: object) -> dict[str, Any]:
    """``{"mask_png_base64": str}``: check the mask and return it re-encoded in canonical form.

    The canonical form is a grayscale (mode ``L``) PNG without ancillary chunks, so stored
    masks do not depend on how a client chose to write them (palette, text chunks, APNG).
    """
    mask = _decode(answer, ctx.width, ctx.height, ctx.errors)
    if mask is None:
        return {}
    _check_values(mask, len(ctx.spec.labels), ctx.errors)
    if ctx.errors:
        return {}
    return encode_mask(mask)


def decode_mask(answer: object, width: int, height: int) -> np.ndarray:
    """Decode a segmentation answer to a ``(height, width)`` ``uint8`` array of label values.

    Checks the encoding, size and pixel format, not the values against a label set (that needs
    the spec: use ``validate_answer``). Meant for answers already validated and stored, e.g. by
    consensus code. Raises ``AnswerInvalid`` for anything that is not a well-formed mask.
    """
    errors = ErrorList()
    mask = _decode(answer, width, height, errors)
    errors.raise_if_any()
    if mask is None:  # unreachable: _decode reports whenever it returns None
        raise AnswerInvalid([{"loc": list(_LOC), "msg": "invalid mask"}])
    return mask


def encode_mask(mask: np.ndarray) -> dict[str, str]:
    """Encode a 2-D ``uint8`` array of label values as a segmentation answer."""
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 array, got {mask.ndim}-D {mask.dtype}")
    buffer = io.BytesIO()
    # Level 1: masks are mostly runs of a few values, so fast zlib already gets most of the gain.
    Image.fromarray(mask).save(buffer, format="PNG", compress_level=1)
    return {MASK_KEY: base64.b64encode(buffer.getvalue()).decode("ascii")}


def _decode(answer: object, width: int, height: int, errors: ErrorList) -> np.ndarray | None:
    body = read_object(answer, ANSWER, errors, required=(MASK_KEY,))
    if body is None:
        return None
    data = _png_bytes(body[MASK_KEY], errors)
    if data is None or not _check_header(data, width, height, errors):
        return None
    return _decode_pixels(data, width, height, errors)


def _png_bytes(value: object, errors: ErrorList) -> bytes | None:
    if not isinstance(value, str):
        errors.add(_LOC, f"expected a base64 string, got {type_name(value)}")
        return None
    # A cheap bound before any copying; the exact byte cap is checked after decoding.
    if len(value) > _MAX_BASE64_CHARS:
        errors.add(_LOC, f"mask is larger than {MAX_MASK_PNG_BYTES} bytes")
        return None
    text = value.removeprefix(_DATA_URL_PREFIX)
    text = "".join(text.split())  # line-wrapped base64 (MIME style) is still base64
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters
        errors.add(_LOC, "not valid base64")
        return None
    if len(data) > MAX_MASK_PNG_BYTES:
        errors.add(_LOC, f"mask is larger than {MAX_MASK_PNG_BYTES} bytes")
        return None
    if not data.startswith(_PNG_SIGNATURE):
        errors.add(_LOC, "not a PNG file (the mask must be a PNG)")
        return None
    return data


def _check_header(data: bytes, width: int, height: int, errors: ErrorList) -> bool:
    # PNG: 8-byte signature, then the IHDR chunk first: length, b"IHDR", width, height,
    # bit depth, colour type. Read before decoding so an oversized mask costs nothing.
    if len(data) < 26 or data[12:16] != b"IHDR":
        errors.add(_LOC, "corrupt PNG: no IHDR header")
        return False
    mask_width, mask_height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if (mask_width, mask_height) != (width, height):
        errors.add(
            _LOC,
            f"mask is {mask_width}x{mask_height} pixels, the image is {width}x{height}; "
            "they must match",
        )
        return False
    if colour not in (0, 3) or depth != 8:
        kind = _COLOUR_TYPES.get(colour, f"colour type {colour}")
        errors.add(
            _LOC,
            f"mask must be an 8-bit single-channel PNG (grayscale or palette), "
            f"got {depth}-bit {kind}",
        )
        return False
    return True


def _decode_pixels(data: bytes, width: int, height: int, errors: ErrorList) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            if image.mode not in ("L", "P") or image.size != (width, height):
                errors.add(_LOC, f"mask must be 8-bit single-channel, got mode {image.mode}")
                return None
            # For mode P the array holds palette indices, which are the label values:
            # the palette only decides how the mask looks, not what it means.
            return np.array(image, dtype=np.uint8)
    except Exception as exc:
        # Pillow reports corrupt data as OSError, ValueError, SyntaxError, EOFError, struct.error
        # and, where warnings are errors, as warnings; this is untrusted input handed to a C
        # decoder, so whatever it raises means "not a mask we can read", never a 500.
        errors.add(_LOC, f"corrupt PNG: {exc.__class__.__name__}")
        return None


def _check_values(mask: np.ndarray, label_count: int, errors: ErrorList) -> None:
    over = mask > label_count
    if not over.any():
        return
    y, x = np.unravel_index(int(np.argmax(over)), mask.shape)
    errors.add(
        _LOC,
        f"pixel ({int(x)}, {int(y)}) has value {int(mask[y, x])}, but the project has "
        f"{label_count} labels, so values must be 0..{label_count} "
        f"({int(over.sum())} pixel(s) too high)",
    )
