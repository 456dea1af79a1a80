"""Streaming zip archives: each entry is compressed and handed out as soon as it is added.

``zipfile`` writes to a sink that cannot seek, so it uses data descriptors and never goes back;
after each entry the sink is drained, so memory holds one entry at a time, plus the central
directory's small per-entry records. ZIP64 is used automatically past 65,535 entries.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO

from app.exports.base import PREDICTION_COLUMNS, ExportItem, ImageReader, prediction_cells
from app.exports.naming import UniqueStems

__all__ = ["MANIFEST", "Manifest", "Spool", "ZipStream", "with_images"]

_COPY_CHUNK = 64 * 1024

MANIFEST = "tessera/manifest.csv"
"""Where every zip keeps its manifest: in a folder, so that no tool takes a CSV at the root
for a dataset of its own (Datumaro's ``tabular`` format would)."""


class _Sink:
    """A write-only file object; no ``tell``/``seek``, so zipfile streams into it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _check_entry_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ":" in parts[0]
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError(f"unsafe archive entry name {name!r}")


class ZipStream:
    """Build a zip entry by entry; every method returns the bytes ready to send so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED)
        self._time = time.localtime()[:6]

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        _check_entry_name(name)
        info = zipfile.ZipInfo(name, date_time=self._time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add(self, name: str, data: bytes, *, compress: bool = True) -> bytes:
        """Add a whole entry (``compress=False`` for data already compressed, like PNG)."""
        self._zip.writestr(self._info(name, compress), data)
        return self._sink.drain()

    def add_file(self, name: str, source: IO[bytes]) -> Iterator[bytes]:
        """Add an entry copied from a binary file object in chunks, yielding output as it comes."""
        with self._zip.open(self._info(name, True), "w", force_zip64=True) as entry:
            while block := source.read(_COPY_CHUNK):
                entry.write(block)
                yield self._sink.drain()
        yield self._sink.drain()

    def close(self) -> bytes:
        """Write the central directory and return the archive's last bytes."""
        self._zip.close()
        return self._sink.drain()


class Spool:
    """A document written while other entries stream (COCO JSON, CSV next to the images):
    memory up to 8 MiB, then a temporary file; added to the archive at the end."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def write_to(self, archive: ZipStream, name: str) -> Iterator[bytes]:
        """Add everything written so far to ``archive`` as ``name``."""
        self._file.seek(0)
        yield from archive.add_file(name, self._file)

    def close(self) -> None:
        self._file.close()


def with_images(
    items: Iterable[ExportItem],
    archive: ZipStream,
    images: ImageReader,
    folder: str,
    pending: list[bytes],
    manifest: Manifest | None = None,
) -> Iterator[ExportItem]:
    """``items`` as they are, each one's image added to ``archive`` as ``<folder>/<name>`` just
    before the item is handed on (and listed in ``manifest``); the archive's bytes go to
    ``pending`` for the caller to send. Images are stored, not deflated: JPEG, PNG and WebP are
    compressed already. Memory stays at one image when the caller drains ``pending`` after
    each chunk of a consumer that yields once per item (the COCO document does; the CSV is
    asked for one row per chunk)."""
    stems = UniqueStems()
    for item in items:
        stems.stem(item.task_id, item.image_name)
        name = f"{folder}/{item.image_name}"
        pending.append(archive.add(name, images(item), compress=False))
        if manifest is not None:
            manifest.add(item, name)
        yield item


class Manifest:
    """``tessera/manifest.csv`` of a zip export: which file holds which task's image.

    Columns: ``task_id, image_name, file, has_consensus, confidence, answer_count``, then who
    labelled the task and what its answers did with a model's prediction
    (``base.PREDICTION_COLUMNS``). Rows are spooled to a temporary file (memory up to 1 MiB,
    then disk) and added as the last entry.
    """

    FIELDS = (
        "task_id",
        "image_name",
        "file",
        "has_consensus",
        "confidence",
        "answer_count",
        *PREDICTION_COLUMNS,
    )

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        self._text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow(self.FIELDS)

    def add(self, item: ExportItem, file: str) -> None:
        """Record that ``file`` holds ``item``'s annotations."""
        confidence = "" if item.confidence is None else repr(float(item.confidence))
        has = int(item.answer is not None)
        self._writer.writerow(
            (
                item.task_id,
                item.image_name,
                file,
                has,
                confidence,
                item.answer_count,
                *prediction_cells(item),
            )
        )

    def write_to(self, archive: ZipStream, name: str = MANIFEST) -> Iterator[bytes]:
        """Add the manifest to ``archive`` as ``name``."""
        self._text.flush()
        self._file.seek(0)
        yield from archive.add_file(name, self._file)

    def close(self) -> None:
        """Release the spool (safe to call twice)."""
        self._text.close()
