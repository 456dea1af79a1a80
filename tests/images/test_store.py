import hashlib
import os

import pytest

from app.images import ImageNotFound, ImageStore, LocalImageStore, validate_sha256
from tests.images.factory import make_image

PNG = make_image("PNG")
SHA = hashlib.sha256(PNG).hexdigest()

BAD_DIGESTS = [
    "",
    "../../etc/passwd",
    "/" + "a" * 63,
    SHA.upper(),
    SHA[:-1],
    SHA + "0",
    SHA + "\n",
    "g" * 64,
    SHA[:62] + "/.",
]


class TestLocalImageStore:
    def test_put_then_get(self, tmp_path):
        store = LocalImageStore(tmp_path)
        assert store.put(PNG) == SHA
        assert store.get(SHA) == PNG
        assert store.exists(SHA)

    def test_layout_is_two_levels_of_fan_out(self, tmp_path):
        store = LocalImageStore(tmp_path)
        store.put(PNG)
        assert store.path(SHA) == tmp_path / SHA[:2] / SHA[2:4] / SHA
        assert store.path(SHA).read_bytes() == PNG

    def test_same_bytes_are_stored_once(self, tmp_path):
        store = LocalImageStore(tmp_path)
        store.put(PNG)
        first = store.path(SHA).stat()
        assert store.put(PNG) == SHA
        assert store.path(SHA).stat().st_mtime_ns == first.st_mtime_ns
        assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [SHA]

    def test_no_temporary_files_are_left_behind(self, tmp_path):
        store = LocalImageStore(tmp_path)
        store.put(PNG)
        store.put(b"other bytes")
        assert not list(tmp_path.rglob(".tmp-*"))

    def test_a_failed_write_leaves_nothing_half_written(self, tmp_path, monkeypatch):
        store = LocalImageStore(tmp_path)

        def crash(*_args):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            store.put(PNG)
        assert not store.exists(SHA)
        assert [p for p in tmp_path.rglob("*") if p.is_file()] == []

    def test_missing_image_is_not_found(self, tmp_path):
        store = LocalImageStore(tmp_path)
        with pytest.raises(ImageNotFound):
            store.get(SHA)
        with pytest.raises(KeyError):  # ImageNotFound is a KeyError for callers that prefer it
            store.get(SHA)
        assert not store.exists(SHA)

    @pytest.mark.parametrize("digest", BAD_DIGESTS)
    def test_malformed_digests_are_refused_everywhere(self, tmp_path, digest):
        store = LocalImageStore(tmp_path)
        for method in (store.path, store.get, store.exists):
            with pytest.raises(ValueError, match="64 lowercase"):
                method(digest)

    def test_satisfies_the_protocol(self, tmp_path):
        assert isinstance(LocalImageStore(tmp_path), ImageStore)


class TestValidateSha256:
    def test_returns_a_good_digest(self):
        assert validate_sha256(SHA) == SHA

    def test_refuses_non_strings(self):
        with pytest.raises(ValueError, match="64 lowercase"):
            validate_sha256(None)  # type: ignore[arg-type]
