"""Images sent inline as base64 in a JSON body."""

from __future__ import annotations

import base64
import binascii
import re

from app.images.errors import CorruptImage, ImageTooLarge
from app.images.limits import ImageLimits

__all__ = ["decode_base64_image"]

_DEFAULT_LIMITS = ImageLimits()
_DATA_URL = re.compile(r"data:[\w.+/-]*(;[\w.+-]+=[\w.+-]+)*;base64,", re.ASCII)
# Clients wrap base64 at 76 (MIME) or 64 (PEM) columns; allow that much whitespace in the
# cheap pre-check so a legitimately wrapped payload near the cap is not refused early.
_WRAP_SLACK = 1.05


def decode_base64_image(s: str, limits: ImageLimits = _DEFAULT_LIMITS) -> bytes:
    """Decode a base64 image (standard alphabet, padding optional, a ``data:`` URL prefix and
    line breaks allowed) into bytes. The result is not inspected: pass it to ``inspect_image``.

    The size is estimated from the text's length and refused (ImageTooLarge, 413) before any
    decoding; text that is not base64 is CorruptImage (422).
    """
    cap = limits.max_file_bytes
    if len(s) > _encoded_length(cap) * _WRAP_SLACK + 1024:
        raise ImageTooLarge(_too_large(len(s) * 3 // 4, cap))
    prefix = _DATA_URL.match(s)
    text = "".join(s[prefix.end() if prefix else 0 :].split())
    if not text:
        raise CorruptImage("the base64 image data is empty")
    decoded_estimate = len(text) * 3 // 4 - text[-2:].count("=")
    if decoded_estimate > cap:
        raise ImageTooLarge(_too_large(decoded_estimate, cap))
    text += "=" * (-len(text) % 4)  # tolerate missing padding, as many encoders omit it
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CorruptImage(
            "the image data is not valid base64 (standard alphabet A-Z a-z 0-9 + /)"
        ) from None


def _encoded_length(n_bytes: int) -> int:
    return 4 * -(-n_bytes // 3)


def _too_large(n_bytes: int, cap: int) -> str:
    return f"base64 image decodes to about {n_bytes:,} bytes; the limit is {cap:,} bytes"
