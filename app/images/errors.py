"""Errors raised while taking in images. Each carries the HTTP status it should become.

    ImageError                 status, detail
     ├── ImageTooLarge (413)   bytes over a cap: a file, a request, a zip's contents, a download
     ├── UnsupportedImageType (415)
     │                         not JPEG, PNG or WebP by content; animated PNG/WebP
     ├── CorruptImage (422)    truncated or undecodable image, bad base64, broken zip
     ├── ImageBomb (422)       more pixels than the limit (refused before decoding)
     ├── UnsafeURL (422)       not http(s), or the host is (or resolves to) a non-public address
     └── FetchFailed (422)     the download itself failed: DNS, connection, timeout, non-2xx

    ImageNotFound (KeyError)   the store has no image with that digest
    ImageStoreFull (OSError)   the store's disk or quota is full (ENOSPC, EDQUOT; an object
                               store's quota or storage-full error): app: 507
    ImageStoreUnavailable (OSError)
                               the object store cannot be reached, times out, throttles or
                               answers with a server error: app: 503 with Retry-After

The package knows nothing of HTTP frameworks: the caller maps ``status`` and ``detail`` onto
its own problem-details type.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CorruptImage",
    "FetchFailed",
    "ImageBomb",
    "ImageError",
    "ImageNotFound",
    "ImageStoreFull",
    "ImageStoreUnavailable",
    "ImageTooLarge",
    "UnsafeURL",
    "UnsupportedImageType",
]


class ImageError(Exception):
    """Base class: an image (or its container or URL) was refused.

    Attributes:
        status: the HTTP status this should be reported as.
        detail: one human sentence, safe to show to the uploader.
    """

    status: ClassVar[int] = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ImageTooLarge(ImageError):
    """More bytes than a cap allows (a file, a request, a zip's contents, a download)."""

    status = 413


class UnsupportedImageType(ImageError):
    """Not a JPEG, PNG or WebP by its content, or an animated image."""

    status = 415


class CorruptImage(ImageError):
    """The bytes claim a supported format but do not decode; also bad base64 and broken zips."""

    status = 422


class ImageBomb(ImageError):
    """The header declares more pixels than the limit; refused before any decoding."""

    status = 422


class UnsafeURL(ImageError):
    """The URL is not http(s), is malformed, or points at a non-public address."""

    status = 422


class FetchFailed(ImageError):
    """Downloading the image failed: name resolution, connection, timeout, or non-2xx status."""

    status = 422


class ImageNotFound(KeyError):
    """The store holds no image with this sha256."""


class ImageStoreFull(OSError):
    """The store could not write an image: no space left on its disk, or its quota is used up.
    Nothing half-written is left behind (the temporary file is removed)."""


class ImageStoreUnavailable(OSError):
    """The object store did not answer (connection refused, timeout), throttled us (SlowDown) or
    failed (5xx): nothing was stored by the call that raised it; retrying later may work."""
