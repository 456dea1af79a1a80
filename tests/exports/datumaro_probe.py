"""Run by Datumaro's own venv (``.venv-datumaro``, see scripts/setup): detect and import one
export, print what Datumaro read as JSON. Not a test module; tests/exports/test_datumaro.py
calls it, because Datumaro pins Pillow 12 and cannot share the project's venv."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from datumaro.components.annotation import AnnotationType
from datumaro.components.dataset import Dataset
from datumaro.components.environment import Environment


def main() -> None:
    """``datumaro_probe.py PATH FORMAT [PATH FORMAT ...]``: one JSON list, one entry per pair."""
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    results = [probe(path, fmt) for path, fmt in zip(args[::2], args[1::2], strict=True)]
    sys.stdout.write(json.dumps(results) + "\n")


def probe(path: str, fmt: str) -> dict[str, Any]:
    detected = Environment().detect_dataset(path)
    dataset = Dataset.import_from(path, fmt)
    categories = dataset.categories()
    label_cat = categories.get(AnnotationType.label)
    labels = [label.name for label in label_cat] if label_cat else []
    items = []
    for item in dataset:
        annotations: list[dict[str, Any]] = []
        for ann in item.annotations:
            record: dict[str, Any] = {"type": ann.type.name}
            label = getattr(ann, "label", None)
            record["label"] = labels[label] if label is not None else None
            if ann.type == AnnotationType.bbox:
                record["bbox"] = [float(v) for v in ann.get_bbox()]
            elif ann.type in (AnnotationType.polygon, AnnotationType.points):
                record["points"] = [float(v) for v in ann.points]
                if ann.type == AnnotationType.points:
                    record["visibility"] = [int(v) for v in ann.visibility]
            elif ann.type == AnnotationType.mask:
                record["mask"] = ann.image.astype(int).tolist()
            annotations.append(record)
        media = item.media
        size = list(media.size) if media is not None and media.has_size else None
        items.append(
            {
                "id": item.id,
                "subset": item.subset,
                "path": getattr(media, "path", None),
                "has_data": bool(media is not None and media.has_data),
                "size": size,
                "annotations": annotations,
            }
        )
    return {"detected": detected, "labels": labels, "items": items}


if __name__ == "__main__":
    main()
