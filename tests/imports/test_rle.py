"""The RLE readers are the exact inverses of the writers (and agree with pycocotools)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as coco_masks

from app.exports.coco import rle_counts
from app.exports.cvat import cvat_rle
from app.exports.shapes import rle_string
from app.imports.rle import coco_mask, cvat_mask, string_counts


@pytest.mark.parametrize("seed", range(20))
def test_masks_survive_every_rle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(1, 60, 2))
    mask = rng.random((height, width)) < rng.random()
    text = rle_string(mask)
    encoded = coco_masks.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert string_counts(encoded["counts"].decode()) == rle_counts(mask)
    assert (coco_mask(string_counts(text), height, width) == mask).all()
    assert (coco_mask(rle_counts(mask), height, width) == mask).all()
    if mask.any():
        runs, left, top, w, h = cvat_rle(mask)
        decoded = cvat_mask([int(r) for r in runs.split(",")], left, top, w, h, (width, height))
        assert (decoded == mask).all()


def test_runs_that_do_not_cover_the_mask_are_refused() -> None:
    with pytest.raises(ValueError, match="cover 5 pixels"):
        coco_mask([2, 3], 2, 3)
    with pytest.raises(ValueError, match="outside the image"):
        cvat_mask([0, 4], 1, 1, 2, 2, (2, 2))
