"""Zip uploads: a bag of images, read entirely in memory.

Nothing from an archive is ever written to disk by this module, so an entry name cannot
escape anywhere; an image keeps its path inside the archive (``train/cat.jpg``), cleaned by
``app.images.names.clean_name`` because it is shown to people and ends up in exports. Sizes are counted as bytes actually come out of the
decompressor, never taken from the (attacker-written) headers.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from app.images.errors import CorruptImage, ImageTooLarge
from app.images.inspect import describe_unsupported, sniff_media_type
from app.images.limits import ImageLimits
from app.images.names import clean_name

__all__ = ["ZipResult", "is_label_name", "read_zip", "safe_name"]

_DEFAULT_LIMITS = ImageLimits()
_CHUNK = 64 * 1024


@dataclass(slots=True)
class ZipResult:
    """Images found in a zip, and a per-entry report of what was left out and why."""

    images: list[tuple[str, bytes]] = field(default_factory=list)
    """``(cleaned relative path, bytes)`` for every entry that looks like JPEG/PNG/WebP by content.
    They are not yet validated: run ``inspect_image`` on each."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    """``{"name", "reason"}`` for every file entry not taken (except hidden/macOS metadata)."""
    labels: list[tuple[str, bytes]] = field(default_factory=list)
    """``(cleaned path, bytes)`` of entries that may hold labels (``.json``, ``.txt``,
    ``.xml``, ``.yaml``): read by the batch service, which reports on each."""


class _TotalCap:
    """Counts decompressed bytes across the whole archive and stops at the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0

    def add(self, n: int) -> None:
        self.used += n
        if self.used > self.cap:
            raise ImageTooLarge(
                f"the zip expands to more than {self.cap:,} bytes; upload it in smaller parts"
            )


def read_zip(data: bytes, limits: ImageLimits = _DEFAULT_LIMITS) -> ZipResult:
    """Extract the images of a zip archive into memory.

    Directories, ``__MACOSX/`` and dotfile entries (``.DS_Store``, ``._x.jpg``) are dropped
    silently; other non-images, nested zips, encrypted, oversized or damaged entries are listed
    in ``skipped`` with a reason. Raises ImageTooLarge (413) when the archive is over
    ``max_request_bytes``, holds more than ``max_zip_files`` candidate files, or expands past
    ``max_zip_uncompressed_bytes``; CorruptImage (422) when it is not a readable zip.
    """
    if len(data) > limits.max_request_bytes:
        raise ImageTooLarge(
            f"the zip is {len(data):,} bytes; the limit is {limits.max_request_bytes:,} bytes"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise CorruptImage("the upload is not a readable zip archive") from None
    with archive:
        entries = [info for info in archive.infolist() if not _is_junk(info)]
        if len(entries) > limits.max_zip_files:
            raise ImageTooLarge(
                f"the zip holds {len(entries):,} files; the limit is {limits.max_zip_files:,}"
            )
        result = ZipResult()
        total = _TotalCap(limits.max_zip_uncompressed_bytes)
        for info in entries:
            _take(archive, info, limits, total, result)
    return result


def safe_name(raw: str) -> str:
    """An archive entry's relative path, cleaned (``clean_name``), or ``unnamed``."""
    return clean_name(raw) or "unnamed"


def _is_junk(info: zipfile.ZipInfo) -> bool:
    """Entries a person did not mean to upload: folders, macOS resource forks, dotfiles."""
    if info.is_dir():
        return True
    parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    # ".." is not hidden, just hostile; such entries are taken with the ".." parts dropped.
    return bool(parts) and (parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts))


def _take(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ImageLimits,
    total: _TotalCap,
    result: ZipResult,
) -> None:
    name = safe_name(info.filename)
    # The declared size may lie, but only a *small* lie is dangerous (that is why reading is
    # capped below); a large declared size is reason enough to skip without decompressing.
    if info.file_size > limits.max_file_bytes:
        result.skipped.append({"name": name, "reason": _too_big(limits)})
        return
    try:
        data, reason = _read_member(archive, info, limits, total)
    except RuntimeError:  # zipfile's way of saying "encrypted, password required"
        data, reason = None, "encrypted entries are not supported"
    except NotImplementedError:
        data, reason = None, "this entry uses an unsupported compression method"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        data, reason = None, "this entry is damaged (bad header, data or checksum)"
    why = reason or ""
    # An empty file is no image, but an empty YOLO label file says "no objects".
    not_image = why.startswith(_NOT_IMAGE) or "not accepted" in why or why == "empty file"
    if data is None and not_image and is_label_name(name):
        with archive.open(info) as member:
            labels = member.read(limits.max_file_bytes + 1)
        total.add(len(labels))
        if len(labels) <= limits.max_file_bytes:
            result.labels.append((name, labels))
            return
        reason = _too_big(limits)
    if data is None:
        result.skipped.append({"name": name, "reason": reason or "unreadable"})
    else:
        result.images.append((name, data))


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ImageLimits, total: _TotalCap
) -> tuple[bytes | None, str | None]:
    """Read one entry in chunks; stop early on a non-image, a nested zip or the size caps."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            total.add(len(chunk))
            size += len(chunk)
            if size > limits.max_file_bytes:
                return None, _too_big(limits)
            if not chunks:
                reason = _refusal(chunk)
                if reason:
                    return None, reason
            chunks.append(chunk)
    if not chunks:
        return None, "empty file"
    return b"".join(chunks), None


def _refusal(head: bytes) -> str | None:
    """Why an entry is not taken, judged from its first bytes (its content, not its name)."""
    if sniff_media_type(head[:16]):
        return None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "nested zip archives are not expanded; upload it separately"
    return describe_unsupported(head[:16])


_NOT_IMAGE = "not a JPEG, PNG or WebP"


def is_label_name(name: str) -> bool:
    """Whether a non-image file of an upload may hold labels, by its name: ``.json``, ``.xml``,
    ``.yaml``, ``.csv``; a ``.txt`` only as ``classes.txt``, ``labelmap.txt``, in a ``labels/``
    folder or a VOC ``ImageSets/`` list."""
    lower = name.lower()
    if lower.endswith(".txt"):
        base = lower.rsplit("/", 1)[-1]
        return (
            "/labels/" in f"/{lower}"
            or "imagesets/" in lower
            or base in ("classes.txt", "labelmap.txt")
        )
    return lower.endswith((".json", ".xml", ".yaml", ".yml", ".csv"))


def _too_big(limits: ImageLimits) -> str:
    return f"larger than the per-image limit of {limits.max_file_bytes:,} bytes"
