"""Turn an upload (multipart files, zips, base64 JSON, URLs) into named image bytes.

Every image the requester names explicitly must be valid, or the whole upload is refused with
the reason and the file; only the contents of a zip are filtered, with a per-file report, since
archives routinely carry thumbnails, metadata and stray files.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from app.batches.errors import image_problem
from app.core.config import Settings
from app.images import (
    ImageError,
    ImageLimits,
    ImageTooLarge,
    Resolver,
    check_url,
    decode_base64_image,
    default_resolver,
    fetch_image,
    read_zip,
    sniff_media_type,
)
from app.images.names import clean_name
from app.imports import LabelFileInvalid, is_label_file

ZIP_MAGIC = b"PK\x03\x04"
URL_FETCH_THREADS = 8

Fetcher = Callable[[str, ImageLimits], bytes]
"""Downloads one image URL; ``fetch_image`` in production, a mock-backed one in tests."""


@dataclass
class Upload:
    images: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)
    """``(url, name)`` of images the fetch reconciler downloads after the batch is created."""
    labels: list[tuple[str, bytes]] = field(default_factory=list)
    """Label files (COCO JSON, YOLO ``labels/``…) from a zip or beside the images: read into
    pre-annotations by the batch service (``app.imports``)."""
    labels_format: str | None = None
    """The format the label files are read in (``None``: each file's is detected)."""

    def add_file(self, name: str, data: bytes, limits: ImageLimits) -> None:
        name = clean_name(name) or f"image-{len(self.images) + 1}"
        if data[:4] == ZIP_MAGIC:
            try:
                result = read_zip(data, limits)
            except ImageError as exc:
                raise image_problem(exc, name) from None
            self.images.extend(result.images)
            self.labels.extend(result.labels)
            self.skipped.extend(
                {"name": f"{name}/{s['name']}", "reason": s["reason"]} for s in result.skipped
            )
        elif is_label_file(name) and sniff_media_type(data[:16]) is None:
            self.labels.append((name, data))
        else:
            self.images.append((name, data))

    def add_base64(self, name: str, data_base64: str, limits: ImageLimits) -> None:
        try:
            data = decode_base64_image(data_base64, limits)
        except ImageError as exc:
            raise image_problem(exc, name) from None
        self.images.append((clean_name(name) or f"image-{len(self.images) + 1}", data))

    def add_label_file(self, name: str, data_base64: str, limits: ImageLimits) -> None:
        """A label file sent as base64 (beside a URL list): read with the upload's labels."""
        cleaned = clean_name(name) or f"labels-{len(self.labels) + 1}"
        try:
            data = decode_base64_image(data_base64, limits)
        except ImageTooLarge as exc:
            raise image_problem(exc, cleaned) from None
        except ImageError:
            raise LabelFileInvalid(cleaned, "data_base64 is not valid base64") from None
        self.labels.append((cleaned, data))

    def add_urls(
        self, urls: list[str], limits: ImageLimits, *, fetch: Fetcher = fetch_image
    ) -> None:
        """Fetch URLs a few at a time; any refused or failed URL refuses the upload."""
        with ThreadPoolExecutor(max_workers=URL_FETCH_THREADS) as pool:
            futures = [(url, pool.submit(fetch, url, limits)) for url in urls]
            for url, future in futures:
                try:
                    data = future.result()
                except ImageError as exc:
                    raise image_problem(exc, url) from None
                self.images.append((_name_from_url(url, len(self.images) + 1), data))

    def add_url_refs(
        self,
        urls: list[str],
        *,
        resolver: Resolver = default_resolver,
        names: list[str | None] | None = None,
    ) -> None:
        """Check each URL now (scheme, form, public address), download later: any unsafe URL
        refuses the upload at once, before anything is stored. ``names`` (one per URL, or
        ``None``) are the names the requester gave; otherwise the URL path's last part."""
        given = names or [None] * len(urls)
        for url, name in zip(urls, given, strict=True):
            try:
                check_url(url, resolver=resolver)
            except ImageError as exc:
                raise image_problem(exc, url) from None
            position = len(self.images) + len(self.urls) + 1
            cleaned = clean_name(name) if name else ""
            self.urls.append((url, cleaned or _name_from_url(url, position)))


def limits_from(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_file_bytes=settings.max_image_bytes,
        max_request_bytes=settings.max_request_bytes,
        max_pixels=settings.max_image_pixels,
        max_zip_files=settings.max_zip_files,
        max_zip_uncompressed_bytes=settings.max_zip_uncompressed_bytes,
        url_timeout_s=settings.url_fetch_timeout_s,
        url_max_redirects=settings.url_fetch_max_redirects,
    )


def _name_from_url(url: str, position: int) -> str:
    path = httpx.URL(url).path
    return clean_name(path.rsplit("/", 1)[-1]) or f"image-{position}"
