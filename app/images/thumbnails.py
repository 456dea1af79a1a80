"""Small WebP copies of stored images for galleries, made once and kept by content.

A thumbnail is named by the original's sha256 and its width, so the same bytes uploaded by
many requesters share one thumbnail, and a thumbnail can never show another image than its
name says. Widths snap up to a few sizes (64 … 1024) so the cache holds few variants.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image as PILImage

from app.images.store import validate_sha256

log = logging.getLogger("tessera.thumbnails")

WIDTHS = (64, 128, 256, 512, 1024)
MEDIA_TYPE = "image/webp"


def snap_width(width: int) -> int:
    """The cached width that serves a request for ``width`` pixels."""
    return next((w for w in WIDTHS if w >= width), WIDTHS[-1])


def render(data: bytes, width: int) -> bytes:
    """A WebP at most ``width`` pixels wide (and as high, keeping the aspect), never enlarged."""
    with PILImage.open(io.BytesIO(data)) as source:
        source.draft("RGB", (width, width))  # JPEG: decode at a fraction of the size, much faster
        source.thumbnail((width, width), PILImage.Resampling.LANCZOS)
        img: PILImage.Image = source
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "transparency" in img.info or "A" in img.mode else "RGB")
        out = io.BytesIO()
        img.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()


class ThumbnailCache:
    """Files under ``root/ab/<sha256>-<width>.webp``, written atomically (tmp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str, width: int) -> Path:
        digest = validate_sha256(sha256)
        if width not in WIDTHS:
            raise ValueError(f"thumbnail width must be one of {WIDTHS}")
        return self.root / digest[:2] / f"{digest}-{width}.webp"

    def get_or_make(self, sha256: str, width: int, load: Callable[[], bytes]) -> bytes:
        """The thumbnail; on a miss it is made from ``load()`` (the original's bytes) and kept.

        A cache that cannot be written (disk full, quota, read-only) costs only the caching:
        the thumbnail is served all the same, nothing half-written is left, and the log says
        why it was not kept."""
        target = self.path(sha256, width)
        with contextlib.suppress(FileNotFoundError):
            return target.read_bytes()
        data = render(load(), width)
        try:
            self._keep(target, data)
        except OSError as exc:
            log.warning("thumbnail %s not cached: %s", target.name, exc)
        return data

    @staticmethod
    def _keep(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
