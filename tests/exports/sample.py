"""One small batch of every type, with real images, as the real-tool tests load it.

Names have folders, spaces, ``+``, unicode and the same base name in different folders
(already unique per batch, as uploads make them); images are non-square and of several sizes.
``truth`` is what the workers answered (the consensus the export is made from). Who labelled
each task and what its answers did with a model's prediction are set too (``FACTS``), so every
real tool reads exports that carry them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.annotations import AnnotationSpec
from app.exports import ExportItem, export
from app.exports.base import AnswerStart, PredictionFacts
from tests.exports.helpers import item, mask_answer, spec

IMAGES: list[tuple[str, tuple[int, int]]] = [
    ("train/cat.jpg", (160, 90)),
    ("val/cat.jpg", (90, 160)),
    ("val/Cat_2.PNG", (200, 120)),
    ("dog+cat 06.jpg", (128, 72)),
    ("chat été/猫 1.png", (75, 100)),
]
"""``(name, (width, height))``; the last one has no consensus yet (exported with no labels)."""

SPECS: dict[str, AnnotationSpec] = {
    "classification": spec("classification", ["cat", "dog"]),
    "multilabel": spec("multilabel", ["cat", "outdoor", "label"]),
    "bbox": spec("bbox", ["car", "person"]),
    "polygon": spec("polygon", ["tree", "house"]),
    "keypoints": spec(
        "keypoints",
        ["face"],
        keypoints=["left_eye", "right_eye", "nose"],
        skeleton=[[0, 1], [1, 2], [0, 2]],
    ),
    "segmentation": spec("segmentation", ["road", "car"]),
    "points": spec("points", ["cell", "debris"]),
}


def image_bytes(name: str, size: tuple[int, int], index: int) -> bytes:
    buffer = io.BytesIO()
    colour = (40 * index % 256, 90, 200 - 30 * index)
    kind = "PNG" if name.lower().endswith(".png") else "JPEG"
    Image.new("RGB", size, colour).save(buffer, format=kind)
    return buffer.getvalue()


def truth(kind: str, index: int, width: int, height: int) -> dict[str, Any] | None:
    """The workers' answer for image ``index`` (None for the last: no consensus yet)."""
    if index == len(IMAGES) - 1:
        return None
    w, h = float(width), float(height)
    if kind == "classification":
        return {"label": ["cat", "dog"][index % 2]}
    if kind == "multilabel":  # [] is an answer: "none of them"; "label" is also a CSV column
        return {"labels": [["cat"], ["cat", "outdoor"], [], ["outdoor", "label"]][index]}
    if kind == "bbox":
        return {
            "objects": [
                {"label": "car", "box": [w * 0.1 + 0.3, h * 0.2 + 0.7, w * 0.3, h * 0.4]},
                {"label": "person", "box": [w * 0.5, h * 0.45, w * 0.25 + 0.5, h * 0.3]},
            ]
        }
    if kind == "polygon":
        return {
            "objects": [
                {
                    "label": "tree",
                    "points": [[w * 0.1, h * 0.1], [w * 0.4, h * 0.15], [w * 0.3, h * 0.5]],
                },
                {
                    "label": "house",
                    "points": [
                        [w * 0.5, h * 0.5],
                        [w * 0.9, h * 0.5],
                        [w * 0.9, h * 0.9],
                        [w * 0.5, h * 0.9],
                    ],
                },
            ]
        }
    if kind == "keypoints":
        return {
            "objects": [
                {
                    "label": "face",
                    "points": [
                        [w * 0.3, h * 0.3, 2],
                        [w * 0.6, h * 0.32, 2],
                        [w * 0.45, h * 0.6, 1],
                    ],
                }
            ]
        }
    if kind == "points":
        return {
            "objects": [
                {"label": "cell", "point": [w * 0.2, h * 0.3]},
                {"label": "debris", "point": [w * 0.7, h * 0.6]},
            ]
        }
    if kind == "segmentation":
        mask = np.zeros((height, width), dtype=np.uint8)
        mask[: height // 3, :] = 1
        mask[height // 2 : height // 2 + 10, width // 4 : width // 4 + 15] = 2
        return mask_answer(mask)
    raise ValueError(kind)


@dataclass
class Sample:
    kind: str
    spec: AnnotationSpec
    items: list[ExportItem]
    images: dict[str, bytes]

    def read(self, entry: ExportItem) -> bytes:
        return self.images[entry.task_id]

    def export(self, format: str, *, images: bool = True) -> bytes:
        reader = self.read if images else None
        return b"".join(export(format, self.spec, self.items, images=reader).chunks)

    def unpack(self, format: str, root: Path) -> Path:
        with zipfile.ZipFile(io.BytesIO(self.export(format))) as archive:
            assert archive.testzip() is None
            for name in archive.namelist():
                path = root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(name))
        return root

    def truth_of(self, name: str) -> dict[str, Any] | None:
        return next(i.answer for i in self.items if i.image_name == name)


FACTS: dict[int, tuple[str | None, PredictionFacts | None]] = {
    0: (
        "crowd",
        PredictionFacts(
            "mdl_1",
            0.75,
            "IoU",
            (AnswerStart("asg_1", "acc_1", 0.8, False), AnswerStart("asg_2", "acc_2", 1.0, True)),
        ),
    ),
    1: ("model", PredictionFacts("mdl_1", 0.97, "IoU")),
    2: ("crowd", None),
    3: ("crowd", None),
    4: (None, PredictionFacts("mdl_1", 0.4, "IoU")),
}
"""Per image: ``labeled_by`` and the prediction facts (image 1 auto-labelled by the model;
the last, open, was predicted but nobody answered yet)."""


def sample(kind: str) -> Sample:
    spec_ = SPECS[kind]
    items, images = [], {}
    for index, (name, (width, height)) in enumerate(IMAGES):
        task_id = f"tsk_{index}"
        answer = truth(kind, index, width, height)
        labeled_by, prediction = FACTS[index]
        made = item(spec_, task_id, name, answer, width=width, height=height)
        items.append(replace(made, labeled_by=labeled_by, prediction=prediction))
        images[task_id] = image_bytes(name, (width, height), index)
    return Sample(kind, spec_, items, images)
