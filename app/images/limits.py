"""Caps applied to every way an image comes in."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImageLimits"]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Size, pixel, archive and download limits. Build one from settings and pass it in."""

    max_file_bytes: int = 20 * MiB
    """Largest single image, in bytes (also the cap on a download and a base64 payload)."""
    max_request_bytes: int = 200 * MiB
    """Largest whole upload (all files of one request, or one zip as received)."""
    max_pixels: int = 50_000_000
    """Largest width × height; checked from the header before decoding."""
    max_zip_files: int = 10_000
    """Most image candidates in one zip (directories and hidden/metadata entries not counted)."""
    max_zip_uncompressed_bytes: int = 1024 * MiB
    """Most bytes decompressed from one zip, counted as they are read, not as declared."""
    url_timeout_s: float = 10
    """Per-operation network timeout and also the overall deadline of one fetch, redirects included."""
    url_max_redirects: int = 3
    """Most redirects followed by one fetch; every hop is re-checked."""
