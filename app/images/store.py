"""Content-addressed image storage: an image's name is the sha256 of its bytes.

The same bytes are stored once however many batches use them; a digest is validated as 64
lowercase hex characters before it is ever joined to a path, so it cannot name anything
outside the store's root.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from app.images.errors import ImageNotFound, ImageStoreFull
from app.images.signing import UrlSigner

__all__ = [
    "ImageRef",
    "ImageStore",
    "LocalImageStore",
    "api_image_url",
    "open_image_store",
    "validate_sha256",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_sha256(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex characters, else raise ValueError."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("an image digest is 64 lowercase hexadecimal characters")
    return sha256


class ImageRef(Protocol):
    """What a store needs to know of an image to link to it (an ``Image`` row fits)."""

    @property
    def id(self) -> str: ...

    @property
    def sha256(self) -> str: ...


@runtime_checkable
class ImageStore(Protocol):
    """Where image bytes live, keyed by their sha256 (local disk now, an object store later)."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (a no-op if already present) and return its sha256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; ImageNotFound if absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether ``sha256`` is stored."""
        ...

    def url_for(
        self, image: ImageRef, *, viewer_id: str, expires_at: datetime, base_url: str
    ) -> str:
        """A URL that shows ``image`` to ``viewer_id`` without any header until ``expires_at``
        (our own signed ``/v1/images`` URL, or an object store's presigned one)."""
        ...


def api_image_url(
    signer: UrlSigner, image: ImageRef, *, viewer_id: str, expires_at: datetime, base_url: str
) -> str:
    """Our own signed ``/v1/images/{id}`` URL (served by the API from whichever store)."""
    return f"{base_url}/v1/images/{image.id}?{signer.query(image.id, viewer_id, expires_at)}"


def open_image_store(
    spec: str,
    *,
    images_dir: Path,
    url_signer: UrlSigner | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ImageStore:
    """The store ``TESSERA_IMAGE_STORE`` names: empty → files under ``images_dir`` (the
    embedded default); ``s3://bucket/prefix`` → that object store (app.images.s3)."""
    if not spec.strip():
        return LocalImageStore(images_dir, url_signer)
    from app.images.s3 import S3ImageStore

    return S3ImageStore.from_url(spec.strip(), clock=clock)


TMP_PREFIX = ".tmp-"


def sweep_temporary(root: Path, *, older_than_s: float = 3600.0) -> int:
    """Delete temporary files left by a writer that died mid-``put`` (SIGKILL, power loss):
    those whose process is gone, and any older than ``older_than_s`` (another machine's, on a
    shared folder). Never a final file; returns how many it removed."""
    removed = 0
    now = time.time()
    for tmp in Path(root).glob(f"*/*/{TMP_PREFIX}*"):
        pid = tmp.name[len(TMP_PREFIX) :].split("-", 1)[0]
        alive = pid.isdigit() and _alive(int(pid))
        try:
            if not alive or now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # renamed into place or removed meanwhile
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalImageStore:
    """Files under ``root/ab/cd/<sha256>``, written atomically.

    Two fan-out levels keep directories small (65,536 leaves). Files are created mode 0600 by
    ``mkstemp``; images are customers' data and only the server process reads them.
    """

    def __init__(self, root: Path, url_signer: UrlSigner | None = None) -> None:
        self.root = Path(root)
        self.url_signer = url_signer

    def url_for(
        self, image: ImageRef, *, viewer_id: str, expires_at: datetime, base_url: str
    ) -> str:
        """Our signed ``/v1/images/{id}`` URL, served by the API from this store."""
        if self.url_signer is None:
            raise RuntimeError("this image store was made without a URL signer")
        return api_image_url(
            self.url_signer, image, viewer_id=viewer_id, expires_at=expires_at, base_url=base_url
        )

    def path(self, sha256: str) -> Path:
        """Where ``sha256`` is (or would be) stored; ValueError for a malformed digest."""
        digest = validate_sha256(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, sha256: str) -> bool:
        """Whether ``sha256`` is stored."""
        return self.path(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; ImageNotFound (a KeyError) if absent."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise ImageNotFound(sha256) from None

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its sha256; a no-op if those bytes are already stored.

        The bytes go to a temporary file in the target directory (same filesystem), are
        fsynced, then renamed into place with ``os.replace``: readers see the whole file or
        none, and two processes storing the same image race harmlessly (same bytes).
        """
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{TMP_PREFIX}{os.getpid()}-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ImageStoreFull(exc.errno, f"the image store is full: {exc.strerror}") from exc
            raise
        return digest
