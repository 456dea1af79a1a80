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
from app.images import (
    ImageError,
    ImageLimits,
    decode_base64_image,
    fetch_image,
    read_zip,
    safe_name,
)

ZIP_MAGIC = b"PK\x03\x04"
URL_FETCH_THREADS = 8

Fetcher = Callable[[str, ImageLimits], bytes]
"""Downloads one image URL; ``fetch_image`` in production, a mock-backed one in tests."""


@dataclass
class Upload:
    images: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add_file(self, name: str, data: bytes, limits: ImageLimits) -> None:
        name = safe_name(name) or f"image-{len(self.images) + 1}"
        if data[:4] == ZIP_MAGIC:
            try:
                result = read_zip(data, limits)
            except ImageError as exc:
                raise image_problem(exc, name) from None
            self.images.extend(result.images)
            self.skipped.extend({"name": f"{name}/{s['name']}", "reason": s["reason"]} for s in result.skipped)
        else:
            self.images.append((name, data))

    def add_base64(self, name: str, data_base64: str, limits: ImageLimits) -> None:
        try:
            data = decode_base64_image(data_base64, limits)
        except ImageError as exc:
            raise image_problem(exc, name) from None
        self.images.append((safe_name(name) or f"image-{len(self.images) + 1}", data))

    def add_urls(self, urls: list[str], limits: ImageLimits, *, fetch: Fetcher = fetch_image) -> None:
        """Fetch URLs a few at a time; any refused or failed URL refuses the upload."""
        with ThreadPoolExecutor(max_workers=URL_FETCH_THREADS) as pool:
            futures = [(url, pool.submit(fetch, url, limits)) for url in urls]
            for url, future in futures:
                try:
                    data = future.result()
                except ImageError as exc:
                    raise image_problem(exc, url) from None
                self.images.append((_name_from_url(url, len(self.images) + 1), data))


def _name_from_url(url: str, position: int) -> str:
    path = httpx.URL(url).path
    return safe_name(path.rsplit("/", 1)[-1]) or f"image-{position}"
