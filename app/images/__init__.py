"""Image intake for Tessera: validate, unpack, download and store images.

Pure functions and small classes, no web framework and no database: the batch service calls
them and maps ``ImageError.status``/``detail`` onto problem details.

    limits = ImageLimits(max_file_bytes=settings.max_image_bytes, ...)
    info = inspect_image(data, limits)          # or read_zip / decode_base64_image / fetch_image
    sha = store.put(data)                       # content-addressed, dedupes by itself
"""

from app.images.archive import ZipResult, read_zip, safe_name
from app.images.b64 import decode_base64_image
from app.images.errors import (
    CorruptImage,
    FetchFailed,
    ImageBomb,
    ImageError,
    ImageNotFound,
    ImageStoreFull,
    ImageStoreUnavailable,
    ImageTooLarge,
    UnsafeURL,
    UnsupportedImageType,
)
from app.images.fetch import check_url, fetch_image
from app.images.inspect import MEDIA_TYPES, ImageInfo, inspect_image, sniff_media_type
from app.images.limits import ImageLimits
from app.images.netguard import Resolver, default_resolver, is_public
from app.images.signing import UrlSigner, requester_expiry
from app.images.store import ImageRef, ImageStore, LocalImageStore, validate_sha256

__all__ = [
    "MEDIA_TYPES",
    "CorruptImage",
    "FetchFailed",
    "ImageBomb",
    "ImageError",
    "ImageInfo",
    "ImageLimits",
    "ImageNotFound",
    "ImageRef",
    "ImageStore",
    "ImageStoreFull",
    "ImageStoreUnavailable",
    "ImageTooLarge",
    "LocalImageStore",
    "Resolver",
    "UnsafeURL",
    "UnsupportedImageType",
    "UrlSigner",
    "ZipResult",
    "check_url",
    "decode_base64_image",
    "default_resolver",
    "fetch_image",
    "inspect_image",
    "is_public",
    "read_zip",
    "requester_expiry",
    "safe_name",
    "sniff_media_type",
    "validate_sha256",
]
