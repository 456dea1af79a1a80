"""Resumable uploads: a folder, a zip or a URL list into one draft batch, in parallel chunks.

The manifest (JSON lines, appended and flushed as each chunk is acknowledged) records the batch
and, by content hash, every image the service confirmed. Run the same upload again after a
crash and it hashes the files (a cache in the manifest skips unchanged ones), skips what the
manifest confirms, and sends the rest; an image the batch received but whose confirmation was
lost is sent again and the service answers ``present`` without a second task (a batch holds an
image once, by sha256). So no image is stored twice and the task count is exact.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from tessera.client import models as m
from tessera.client import ops
from tessera.client._http import Op, new_idempotency_key
from tessera.client.errors import APIError, PayloadTooLarge, Unprocessable, UnsupportedMediaType

IMAGE_REFUSALS = (PayloadTooLarge, UnsupportedMediaType, Unprocessable)
"""How the service refuses one image of an upload (the problem names it under ``image``)."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
Progress = Callable[[int, int], None]
"""Called with (images done, images in all) as chunks are confirmed."""


@dataclass
class Item:
    """One image to upload: a file on disk, a zip member, or a URL."""

    key: str
    """Where it comes from (path, ``zip!member``, or the URL): the report's key."""
    name: str
    size: int
    path: Path | None = None
    zip_member: str | None = None
    url: str | None = None
    sha256: str = ""


@dataclass
class UploadReport:
    batch_id: str
    manifest: Path
    total: int
    added: int = 0
    present: int = 0
    already_done: int = 0
    """Confirmed by an earlier (interrupted) run: not sent again."""
    refused: dict[str, str] = field(default_factory=dict)
    """Source key → why the service refused that image."""
    duplicates: int = 0
    """Images whose bytes repeat another image of the upload (one task for them all)."""
    labels: list[dict[str, Any]] = field(default_factory=list)
    """With ``labels=``: the service's report per label file sent (``upload_report.labels``):
    images matched, objects read, and what did not fit."""

    @property
    def ok(self) -> bool:
        return not self.refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "manifest": str(self.manifest),
            "total": self.total,
            "added": self.added,
            "present": self.present,
            "already_done": self.already_done,
            "duplicates": self.duplicates,
            "refused": self.refused,
            "labels": self.labels,
        }


def default_manifest(project_id: str, source: object) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tessera" / "uploads"
    digest = hashlib.sha256(f"{project_id}\0{source}".encode()).hexdigest()[:16]
    return base / f"{project_id}-{digest}.jsonl"


class Manifest:
    """Append-only JSON lines; a torn last line (the process killed mid-write) is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batch_id: str | None = None
        self.create_key: str | None = None
        self.done: dict[str, str] = {}
        """sha256 (or URL) → task id or status."""
        self.hashes: dict[str, str] = {}
        """``key|size|mtime_ns`` → sha256."""
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                self._apply(entry)
        self._out = path.open("a")

    def _apply(self, entry: dict[str, Any]) -> None:
        kind = entry.get("kind")
        if kind == "batch":
            self.batch_id = entry.get("batch_id") or self.batch_id
            self.create_key = entry.get("create_key") or self.create_key
        elif kind == "done":
            self.done[entry["id"]] = entry.get("task_id", "")
        elif kind == "hash":
            self.hashes[entry["stamp"]] = entry["sha256"]

    def write(self, *entries: dict[str, Any]) -> None:
        with self._lock:
            for entry in entries:
                self._apply(entry)
                self._out.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._out.flush()
            os.fsync(self._out.fileno())

    def close(self) -> None:
        self._out.close()


def collect(source: str | Path | Sequence[str | Path]) -> list[Item]:
    """The images of a folder (recursive, by image suffix), a ``.zip``, a ``.txt`` of URLs, or
    a list of paths; in a stable order, so a rerun cuts the same chunks."""
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMAGE_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            return [
                Item(str(p), p.relative_to(path).as_posix(), p.stat().st_size, path=p)
                for p in files
            ]
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [
                    i
                    for i in archive.infolist()
                    if not i.is_dir()
                    and Path(i.filename).suffix.lower() in IMAGE_SUFFIXES
                    and not i.filename.startswith("__MACOSX")
                ]
            return [
                Item(
                    f"{path}!{i.filename}",
                    i.filename,
                    i.file_size,
                    path=path,
                    zip_member=i.filename,
                )
                for i in sorted(members, key=lambda i: i.filename)
            ]
        if path.suffix.lower() == ".txt":
            urls = [line.strip() for line in path.read_text().splitlines()]
            urls = [u for u in urls if u and not u.startswith("#")]
            return [Item(u, u.rsplit("/", 1)[-1], 0, url=u, sha256=u) for u in urls]
        return [Item(str(path), path.name, path.stat().st_size, path=path)]
    return [Item(str(p), Path(p).name, Path(p).stat().st_size, path=Path(p)) for p in source]


def _open(item: Item) -> IO[bytes]:
    assert item.path is not None
    if item.zip_member is not None:
        return zipfile.ZipFile(item.path).open(item.zip_member)
    return item.path.open("rb")


def _hash(item: Item) -> str:
    digest = hashlib.sha256()
    with _open(item) as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class Uploader:
    def __init__(
        self,
        run: Callable[[Op[Any]], Any],
        project_id: str,
        source: str | Path | Sequence[str | Path],
        *,
        manifest: str | Path | None,
        parallel: int,
        chunk_files: int,
        chunk_bytes: int,
        progress: Progress | None,
        labels: str | Path | None = None,
    ) -> None:
        self._run = run
        self.labels = CocoLabels(Path(labels)) if labels is not None else None
        self.project_id = project_id
        self.source = source
        self.manifest_path = (
            Path(manifest)
            if manifest
            else default_manifest(
                project_id, source if isinstance(source, str | Path) else tuple(map(str, source))
            )
        )
        self.parallel = max(1, parallel)
        self.chunk_files = max(1, chunk_files)
        self.chunk_bytes = chunk_bytes
        self.progress = progress
        self._done_count = 0
        self._total = 0
        self._count_lock = threading.Lock()

    def run(self) -> UploadReport:
        items = collect(self.source)
        if not items:
            raise ValueError(f"no image found in {self.source}")
        manifest = Manifest(self.manifest_path)
        try:
            return self._upload(items, manifest)
        finally:
            manifest.close()

    def _upload(self, items: list[Item], manifest: Manifest) -> UploadReport:
        with ThreadPoolExecutor(self.parallel) as pool:
            for item, sha in zip(
                items, pool.map(lambda i: self._sha(i, manifest), items), strict=True
            ):
                item.sha256 = sha
        seen: set[str] = set()
        report = UploadReport(
            batch_id=manifest.batch_id or "", manifest=self.manifest_path, total=len(items)
        )
        pending: list[Item] = []
        for item in items:
            if item.sha256 in manifest.done:
                report.already_done += 1
            elif item.sha256 in seen:
                report.duplicates += 1
            else:
                seen.add(item.sha256)
                pending.append(item)
        self._done_count = len(items) - len(pending)
        self._tick(0, len(items))
        chunks = list(self._chunks(pending))
        if manifest.batch_id is None and chunks:
            first = chunks.pop(0)
            self._create(first, manifest, report)
        report.batch_id = manifest.batch_id or ""
        with ThreadPoolExecutor(self.parallel) as pool:
            for _ in pool.map(lambda c: self._add(c, manifest, report), chunks):
                pass
        if self.labels is not None and report.batch_id:
            batch: m.Batch = self._run(ops.get_batch(report.batch_id))
            report.labels = list(batch.upload_report.get("labels", []))
        return report

    def _sha(self, item: Item, manifest: Manifest) -> str:
        if item.url is not None:
            return item.sha256
        assert item.path is not None
        stat = item.path.stat()
        stamp = f"{item.key}|{item.size}|{stat.st_mtime_ns}"
        known = manifest.hashes.get(stamp)
        if known:
            return known
        sha = _hash(item)
        manifest.write({"kind": "hash", "stamp": stamp, "sha256": sha})
        return sha

    def _chunks(self, items: list[Item]) -> Iterator[list[Item]]:
        chunk: list[Item] = []
        size = 0
        for item in items:
            if chunk and (len(chunk) >= self.chunk_files or size + item.size > self.chunk_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += item.size
        if chunk:
            yield chunk

    def _tick(self, n: int, total: int | None = None) -> None:
        with self._count_lock:
            if total is not None:
                self._total = total
            self._done_count += n
            done = self._done_count
        if self.progress is not None:
            self.progress(done, self._total)

    def _op(self, chunk: list[Item], *, create: bool, key: str, batch_id: str = "") -> Op[Any]:
        if chunk[0].url is not None:
            body: dict[str, Any] = {"images": [{"url": i.url} for i in chunk]}
            if create:
                return ops.create_batch(self.project_id, None, json=body, key=key)
            return ops.add_images(batch_id, None, json=body, key=key)
        sources: list[ops.ImageSource] = [
            (i.name, cast(IO[bytes], _LazyFile(i)))
            if i.zip_member is not None
            else (i.name, i.path)
            for i in chunk
            if i.path is not None
        ]
        if self.labels is not None:
            part = self.labels.subset([i.name for i in chunk])
            if part is not None:
                sources.append((self.labels.part_name, part))
        if create:
            return ops.create_batch(self.project_id, sources, json=None, key=key)
        return ops.add_images(batch_id, sources, json=None, key=key)

    def _refused(self, chunk: list[Item], exc: APIError, report: UploadReport) -> list[Item]:
        """The chunk without the image the service refused (named in the problem), or raise."""
        name = exc.problem.get("image")
        bad = [i for i in chunk if name in (i.name, i.url)]
        if not bad:
            raise exc
        report.refused[bad[0].key] = exc.detail
        self._tick(1)
        return [i for i in chunk if i is not bad[0]]

    def _create(self, chunk: list[Item], manifest: Manifest, report: UploadReport) -> None:
        while chunk:
            key = manifest.create_key or new_idempotency_key()
            if manifest.create_key is None:
                manifest.write({"kind": "batch", "project_id": self.project_id, "create_key": key})
            try:
                batch: m.Batch = self._run(self._op(chunk, create=True, key=key))
            except IMAGE_REFUSALS as exc:
                chunk = self._refused(chunk, exc, report)
                # The refusal is stored under that key: the next try needs a new one.
                manifest.create_key = None
                continue
            manifest.write(
                {"kind": "batch", "batch_id": batch.id},
                *({"kind": "done", "id": i.sha256} for i in chunk),
            )
            report.added += len(chunk)
            self._tick(len(chunk))
            return

    def _add(self, chunk: list[Item], manifest: Manifest, report: UploadReport) -> None:
        assert manifest.batch_id is not None
        while chunk:
            try:
                result: m.BatchImages = self._run(
                    self._op(
                        chunk, create=False, key=new_idempotency_key(), batch_id=manifest.batch_id
                    )
                )
            except IMAGE_REFUSALS as exc:
                chunk = self._refused(chunk, exc, report)
                continue
            if chunk[0].url is not None:
                entries = [{"kind": "done", "id": i.sha256} for i in chunk]
                report.added += len(chunk)
            else:
                entries = [
                    {"kind": "done", "id": a.sha256, "task_id": a.task_id}
                    for a in (*result.added, *result.present)
                ]
                report.added += len(result.added)
                report.present += len(result.present)
            manifest.write(*entries)
            self._tick(len(chunk))
            return


class CocoLabels:
    """A COCO JSON of labels for the images of an upload. Each chunk carries the part of it
    about its own images (every category, those images, their annotations), so the service
    reads each image's labels in the request that brings the image, whatever the chunking,
    and a resumed upload sends the labels of exactly the images it sends."""

    def __init__(self, path: Path) -> None:
        try:
            self.coco: dict[str, Any] = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable COCO JSON ({exc})") from None
        if not isinstance(self.coco, dict) or not isinstance(self.coco.get("images"), list):
            raise ValueError(f"{path}: a COCO JSON has an images list")
        self.part_name = path.name if path.suffix.lower() == ".json" else f"{path.name}.json"
        self._by_name: dict[str, list[dict[str, Any]]] = {}
        for image in self.coco["images"]:
            name = str(image.get("file_name", "")) if isinstance(image, dict) else ""
            for key in {name, name.rsplit("/", 1)[-1]}:
                self._by_name.setdefault(key, []).append(image)
        self._annotations: dict[Any, list[Any]] = {}
        for ann in self.coco.get("annotations") or []:
            if isinstance(ann, dict):
                self._annotations.setdefault(ann.get("image_id"), []).append(ann)

    def subset(self, names: Sequence[str]) -> bytes | None:
        """The COCO JSON of these images (by file name, or base name), or None if it has none."""
        images: dict[int, dict[str, Any]] = {}
        for name in names:
            for key in (name, name.rsplit("/", 1)[-1]):
                for image in self._by_name.get(key, []):
                    images[id(image)] = image
        if not images:
            return None
        chosen = list(images.values())
        part = {k: v for k, v in self.coco.items() if k not in ("images", "annotations")}
        part["images"] = chosen
        part["annotations"] = [
            a for image in chosen for a in self._annotations.get(image.get("id"), [])
        ]
        return json.dumps(part, separators=(",", ":")).encode()


class _LazyFile:
    """A zip member opened when httpx first reads it, so a chunk never holds all its bytes."""

    def __init__(self, item: Item) -> None:
        self._item = item
        self._stream: IO[bytes] | None = None

    def _s(self) -> IO[bytes]:
        if self._stream is None:
            self._stream = _open(self._item)
        return self._stream

    def read(self, size: int = -1) -> bytes:
        return self._s().read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            if self._stream is not None:
                self._stream.close()
            self._stream = None
            return 0
        return self._s().seek(offset, whence)

    def tell(self) -> int:
        return self._s().tell()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
