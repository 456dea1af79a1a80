"""Recognise and validate one image: JPEG, PNG or WebP, by content, never by name.

Order matters: the byte cap first (cheap), then the magic bytes, then the header's dimensions
(``Image.open`` is lazy: it parses the header and decodes nothing), and only then a full decode
that proves the file is complete. A pixel bomb is therefore refused before any pixel memory is
allocated.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image

from app.images.errors import CorruptImage, ImageBomb, ImageTooLarge, UnsupportedImageType
from app.images.limits import ImageLimits

__all__ = ["MEDIA_TYPES", "ImageInfo", "describe_unsupported", "inspect_image", "sniff_media_type"]

MEDIA_TYPES: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
"""Accepted media types → the one Pillow plugin allowed to open each."""

_DEFAULT_LIMITS = ImageLimits()

# Formats people actually send by mistake, so the 415 can say what was received.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "zip"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG/XML"),
)
_ISO_BMFF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}
_DISPLAY_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
_PILLOW_PIXELS = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What Tessera stores about a validated image."""

    sha256: str
    media_type: str
    width: int
    height: int
    size_bytes: int


def sniff_media_type(head: bytes) -> str | None:
    """Return ``image/jpeg``, ``image/png`` or ``image/webp`` from the first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def describe_unsupported(head: bytes) -> str:
    """A human sentence saying why these bytes are not an accepted image."""
    found = next((name for sig, name in _OTHER_SIGNATURES if head.startswith(sig)), None)
    if found is None and head[4:8] == b"ftyp":
        found = _ISO_BMFF_BRANDS.get(head[8:12])
    if found:
        return f"{found} files are not accepted; send JPEG, PNG or WebP images"
    return "not a JPEG, PNG or WebP image (recognised by content, not by file name)"


def inspect_image(data: bytes, limits: ImageLimits = _DEFAULT_LIMITS) -> ImageInfo:
    """Validate one image and describe it.

    Raises ImageTooLarge (413) over ``limits.max_file_bytes``; UnsupportedImageType (415) if
    the content is not JPEG/PNG/WebP, or is an animated PNG/WebP; ImageBomb (422) if the header
    declares more than ``limits.max_pixels`` (checked before decoding); CorruptImage (422) if the
    file does not decode completely.

    Animation: a multi-frame PNG (APNG) or WebP is refused, because a worker's browser would
    animate it while the task annotates one picture. A multi-picture JPEG (MPO, as some phone
    cameras write) is accepted: browsers show its first picture and that is what is decoded.

    Pillow only *warns* (DecompressionBombWarning) between its own ``MAX_IMAGE_PIXELS`` and twice
    that; the warning is made an error locally, so the effective pixel limit is the smaller of
    ``limits.max_pixels`` and ``PIL.Image.MAX_IMAGE_PIXELS`` (~89 M by default).
    """
    if len(data) > limits.max_file_bytes:
        raise ImageTooLarge(
            f"image is {len(data):,} bytes; the limit is {limits.max_file_bytes:,} bytes"
        )
    if not data:
        raise CorruptImage("the image is empty (0 bytes)")
    media_type = sniff_media_type(data[:16])
    if media_type is None:
        raise UnsupportedImageType(describe_unsupported(data[:16]))
    with warnings.catch_warnings():
        # Local, not a mutation of Pillow's globals. catch_warnings is process-wide and not
        # thread-safe before Python 3.14: a race can at worst leave this single "error" filter
        # installed, which is harmless, and the explicit pixel check below never depends on it.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(data, media_type, limits) as im:
            width, height = im.size
            _check_pixels(width, height, limits)
            _check_still(im, media_type)
            _decode(im, media_type, limits)
    return ImageInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        width=width,
        height=height,
        size_bytes=len(data),
    )


def _open(data: bytes, media_type: str, limits: ImageLimits) -> Image.Image:
    """Parse the header only, with just the plugin matching the sniffed type."""
    try:
        return Image.open(io.BytesIO(data), formats=[MEDIA_TYPES[media_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageBomb(_bomb_detail(exc, limits)) from None
    except Exception:
        # Hostile headers make Pillow fail in many ways (OSError, SyntaxError, struct.error,
        # ValueError...); none of its messages help an uploader, so say it plainly.
        name = _DISPLAY_NAMES[media_type]
        raise CorruptImage(f"the {name} header is unreadable: the file is corrupt") from None


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImage(f"the image declares an empty size ({width}×{height})")
    if width * height > limits.max_pixels:
        raise ImageBomb(
            f"image is {width}×{height} = {width * height:,} pixels; "
            f"the limit is {limits.max_pixels:,} pixels"
        )


def _check_still(im: Image.Image, media_type: str) -> None:
    if media_type != "image/jpeg" and getattr(im, "n_frames", 1) > 1:
        name = _DISPLAY_NAMES[media_type]
        raise UnsupportedImageType(f"animated {name} images are not accepted; send a still image")


def _decode(im: Image.Image, media_type: str, limits: ImageLimits) -> None:
    """Decode every pixel once, so a truncated or damaged file is caught at upload time.

    Note: if some code sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` process-wide, Pillow
    silently pads truncated files and this check can no longer see them.
    """
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageBomb(_bomb_detail(exc, limits)) from None
    except Exception:
        # Any decoder failure on untrusted bytes means the same thing to the uploader.
        name = _DISPLAY_NAMES[media_type]
        raise CorruptImage(
            f"the {name} data could not be decoded: the file is truncated or corrupt"
        ) from None


def _bomb_detail(exc: Exception, limits: ImageLimits) -> str:
    """Our own wording for Pillow's bomb check, which fires inside ``Image.open``."""
    match = _PILLOW_PIXELS.search(str(exc))
    if match is None:
        return f"image has too many pixels; the limit is {limits.max_pixels:,} pixels"
    pixels = int(match.group(1))
    limit = limits.max_pixels if pixels > limits.max_pixels else Image.MAX_IMAGE_PIXELS
    return f"image is {pixels:,} pixels; the limit is {limit:,} pixels"
