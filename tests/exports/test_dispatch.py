"""The dispatcher: which formats exist, refusals, and streaming behaviour."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.exports import ExportItem, ExportNotAvailable, export, formats_for
from app.exports.archive import ZipStream
from app.exports.naming import UniqueStems
from tests.exports.helpers import item, spec, unzip

SPECS = {
    "classification": spec("classification", ["a", "b"]),
    "multilabel": spec("multilabel", ["a", "b"]),
    "bbox": spec("bbox", ["a", "b"]),
    "polygon": spec("polygon", ["a", "b"]),
    "segmentation": spec("segmentation", ["a", "b"]),
    "keypoints": spec("keypoints", keypoints=["p", "q"]),
}
SHAPES = ("cvat", "datumaro", "labelstudio")
AVAILABLE = {
    "classification": ("csv", "folders", *SHAPES),
    "multilabel": ("csv", *SHAPES),
    "bbox": ("coco", "yolo", "voc", *SHAPES),
    "polygon": ("coco", "yolo", "voc", *SHAPES),
    "segmentation": ("coco", "masks", "voc", "cvat", "datumaro"),
    "keypoints": ("coco", "yolo", *SHAPES),
}
MEDIA = {
    "coco": ("application/json", "_coco.json"),
    "yolo": ("application/zip", "_yolo.zip"),
    "voc": ("application/zip", "_voc.zip"),
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "masks": ("application/zip", "_masks.zip"),
    "folders": ("application/zip", "_folders.zip"),
    "cvat": ("application/zip", "_cvat.zip"),
    "datumaro": ("application/zip", "_datumaro.zip"),
    "labelstudio": ("application/json", "_labelstudio.json"),
}


@pytest.mark.parametrize("kind", list(SPECS))
def test_formats_for_each_type(kind: str) -> None:
    assert formats_for(kind) == AVAILABLE[kind]


@pytest.mark.parametrize("kind", list(SPECS))
@pytest.mark.parametrize("format", [*MEDIA, "json", "COCO", "", "pdf"])
def test_every_combination_exports_or_refuses(kind: str, format: str) -> None:
    if format in AVAILABLE[kind]:
        images = (lambda _item: b"") if format == "folders" else None
        result = export(format, SPECS[kind], [], images=images)
        assert (result.media_type, result.filename_suffix) == MEDIA[format]
        assert b"".join(result.chunks)  # even an empty batch is a valid file
        return
    with pytest.raises(ExportNotAvailable) as caught:
        export(format, SPECS[kind], [])
    error = caught.value
    assert (error.format, error.annotation_type, error.available) == (
        format,
        kind,
        AVAILABLE[kind],
    )
    assert str(error) == (
        f"format {format!r} is not available for {kind} projects; "
        f"available formats: {', '.join(AVAILABLE[kind])}"
    )


def counting(items: list[ExportItem], seen: list[int]) -> Iterator[ExportItem]:
    for entry in items:
        seen.append(1)
        yield entry


@pytest.mark.parametrize("format", ["coco", "yolo", "voc"])
def test_items_are_read_lazily_and_early_close_is_clean(format: str) -> None:
    boxes = SPECS["bbox"]
    stored = item(
        boxes, "tsk_0", "img0.jpg", {"objects": [{"label": "a", "box": [1, 2, 3, 4]}] * 5}
    )
    answer = stored.answer
    items = [ExportItem(f"tsk_{i}", f"img{i}.jpg", 100, 80, answer) for i in range(5000)]
    seen: list[int] = []
    result = export(format, boxes, counting(items, seen))
    assert seen == []  # nothing read before the body is

    first = next(result.chunks)
    assert len(first) >= 64 * 1024
    assert 0 < len(seen) < len(items)
    result.chunks.close()  # a client that hangs up: spools close, no ResourceWarning


def test_streamed_zip_is_complete_and_chunked() -> None:
    boxes = SPECS["bbox"]
    items = [item(boxes, f"tsk_{i}", f"img{i}.jpg", {"objects": []}) for i in range(3000)]
    chunks = list(export("yolo", boxes, items).chunks)
    assert len(chunks) > 1
    files = unzip(b"".join(chunks))
    assert len(files) == 3000 + 3


def test_coco_spills_annotations_but_stays_one_document() -> None:
    boxes = SPECS["bbox"]
    answer = {"objects": [{"label": "b", "box": [1, 2, 3, 4]}] * 20}
    items = [item(boxes, f"tsk_{i}", f"{i}.jpg", answer) for i in range(300)]
    document = json.loads(b"".join(export("coco", boxes, items).chunks))
    assert len(document["images"]) == 300
    assert [a["id"] for a in document["annotations"]] == list(range(1, 6001))
    assert {a["category_id"] for a in document["annotations"]} == {2}


def test_label_outside_the_spec_is_an_error_not_a_silent_drop() -> None:
    boxes = SPECS["bbox"]
    stray = ExportItem(
        "tsk_9", "x.jpg", 10, 10, {"objects": [{"label": "zzz", "box": [0, 0, 1, 1]}]}
    )
    with pytest.raises(ValueError, match="tsk_9: label 'zzz' is not in the project's labels"):
        b"".join(export("yolo", boxes, [stray]).chunks)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("photo.JPG", "photo"),
        ("a/b/c.d.png", "a/b/c.d"),
        ("dog+cat 06.jpg", "dog+cat 06"),
        ("noext", "noext"),
    ],
)
def test_stems_keep_folders(name: str, stem: str) -> None:
    assert UniqueStems().stem("tsk_1", name) == stem


@pytest.mark.parametrize("name", ["../x.jpg", "/x.jpg", "a\\b.jpg", "a:b.jpg", "", "a/./b.jpg"])
def test_unclean_names_are_refused_not_renamed(name: str) -> None:
    with pytest.raises(ValueError, match="not a clean relative path"):
        UniqueStems().stem("tsk_1", name)


def test_a_repeated_stem_is_refused_not_renamed() -> None:
    stems = UniqueStems()
    stems.stem("tsk_1", "val/cat.jpg")
    with pytest.raises(ValueError, match=r"same stem as 'val/cat\.jpg'"):
        stems.stem("tsk_2", "val/Cat.PNG")


@pytest.mark.parametrize("name", ["../x", "/x", "a//b", "a\\b", "C:/x", "", "a/./b"])
def test_zip_refuses_unsafe_entry_names(name: str) -> None:
    archive = ZipStream()
    with pytest.raises(ValueError, match="unsafe archive entry name"):
        archive.add(name, b"")
    archive.close()


@pytest.mark.parametrize("format", ["coco", "yolo", "voc"])
def test_images_stream_in_constant_memory(format: str) -> None:
    """3,000 images of 64 KiB (190 MB) go through with a few MB of Python memory at most."""
    import os
    import tracemalloc

    boxes = SPECS["bbox"]
    answer = {"objects": [{"label": "a", "box": [1.0, 2.0, 3.0, 4.0]}]}
    blob = os.urandom(64 * 1024)

    def items() -> Iterator[ExportItem]:
        for i in range(3000):
            yield ExportItem(f"tsk_{i}", f"dir {i % 7}/img{i}.jpg", 100, 80, answer)

    tracemalloc.start()
    try:
        total = 0
        for chunk in export(format, boxes, items(), images=lambda _item: bytes(blob)).chunks:
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 3000 * 64 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
