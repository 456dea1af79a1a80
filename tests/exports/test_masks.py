"""PNG mask zips decode back to the consensus arrays."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from app.annotations import decode_mask
from tests.exports.helpers import item, mask_answer, run, spec, unzip


def test_masks_decode_to_the_same_arrays() -> None:
    roads = spec("segmentation", ["road", "car", "sky"])
    rng = np.random.default_rng(5)
    first = rng.integers(0, 4, size=(30, 40), dtype=np.uint8)
    second = np.zeros((12, 20), dtype=np.uint8)
    second[3:6, 4:9] = 2
    items = [
        item(roads, "tsk_1", "a/frame.jpg", mask_answer(first), width=40, height=30),
        item(roads, "tsk_2", "b/frame.jpg", mask_answer(second), width=20, height=12),
        item(roads, "tsk_3", "pending.jpg", None, width=7, height=5),
    ]
    files = unzip(run("masks", roads, items))

    assert files["classes.txt"] == b"road\ncar\nsky\n"
    assert sorted(files) == [
        "classes.txt",
        "dataset_meta.json",
        "masks/a/frame.png",
        "masks/b/frame.png",
        "masks/pending.png",
        "tessera/manifest.csv",
    ]
    for name, expected in [("masks/a/frame.png", first), ("masks/b/frame.png", second)]:
        with Image.open(io.BytesIO(files[name])) as image:
            assert image.mode == "L"
            assert np.array_equal(np.array(image), expected)
        height, width = expected.shape
        png = {"mask_png_base64": base64.b64encode(files[name]).decode()}
        assert np.array_equal(decode_mask(png, width, height), expected)
    with Image.open(io.BytesIO(files["masks/pending.png"])) as image:
        pending = np.array(image)
    assert pending.shape == (5, 7)
    assert not pending.any()
    assert "tsk_3,pending.jpg,masks/pending.png,0,,3" in files["tessera/manifest.csv"].decode()
