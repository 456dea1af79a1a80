"""A simulated crowd for end-to-end tests: workers with known habits answering tasks whose
truth is known, through the HTTP API only."""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

Answer = dict[str, Any]
Truth = dict[str, Any]

W, H = 120, 90


@dataclass
class SimWorker:
    name: str
    kind: str  # good | sloppy | spammer | constant
    answer: Callable[[Truth, random.Random], Answer]
    headers: dict[str, str] = field(default_factory=dict)
    answered: int = 0


def noisy(value: float, rng: random.Random, sd: float, lo: float, hi: float) -> float:
    return min(max(value + rng.gauss(0, sd), lo), hi)


# --- truths ---------------------------------------------------------------------------------


def classification_truth(rng: random.Random, labels: list[str]) -> Truth:
    return {"label": rng.choice(labels)}


def box_truth(rng: random.Random, labels: list[str]) -> Truth:
    objects = []
    for i in range(rng.randint(1, 2)):
        x = 5 + i * 55 + rng.uniform(0, 8)
        objects.append(
            {
                "label": rng.choice(labels),
                "box": [x, rng.uniform(5, 30), rng.uniform(30, 45), rng.uniform(30, 50)],
            }
        )
    return {"objects": objects}


def keypoint_truth(rng: random.Random, labels: list[str]) -> Truth:
    cx, cy = rng.uniform(40, 80), rng.uniform(35, 55)
    pts = [[cx - 30, cy - 20, 2], [cx + 30, cy - 20, 2], [cx, cy + 25, 2]]
    return {"objects": [{"label": labels[0], "points": pts}]}


def mask_truth(rng: random.Random, labels: list[str]) -> Truth:  # noqa: ARG001 (one signature for all truths)
    mask = np.zeros((H, W), np.uint8)
    x0, y0 = rng.randint(5, 50), rng.randint(5, 40)
    mask[y0 : y0 + 35, x0 : x0 + 50] = 1
    mask[60:85, 70:115] = rng.choice([1, 2])
    return {"mask": mask}


# --- answers by habit -----------------------------------------------------------------------


def answer_classification(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    def answer(truth: Truth, rng: random.Random) -> Answer:
        if kind == "constant":
            return {"label": labels[0]}
        if (
            kind == "spammer"
            or (kind == "sloppy" and rng.random() < 0.4)
            or (kind == "good" and rng.random() < 0.1)
        ):
            return {"label": rng.choice(labels)}
        return {"label": truth["label"]}

    return answer


def answer_multilabel(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    def answer(truth: Truth, rng: random.Random) -> Answer:
        if kind == "constant":
            return {"labels": [labels[0]]}
        if kind == "spammer":
            return {"labels": [lab for lab in labels if rng.random() < 0.5]}
        flip = 0.25 if kind == "sloppy" else 0.05
        return {
            "labels": [lab for lab in labels if (lab in truth["labels"]) != (rng.random() < flip)]
        }

    return answer


def multilabel_truth(rng: random.Random, labels: list[str]) -> Truth:
    return {"labels": [lab for lab in labels if rng.random() < 0.4]}


def answer_boxes(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    def answer(truth: Truth, rng: random.Random) -> Answer:
        if kind == "constant":
            return {"objects": [{"label": labels[0], "box": [0.0, 0.0, 20.0, 20.0]}]}
        if kind == "spammer":
            return {
                "objects": [
                    {
                        "label": rng.choice(labels),
                        "box": [rng.uniform(0, 60), rng.uniform(0, 40), 30.0, 30.0],
                    }
                ]
            }
        sd, miss = (5.0, 0.25) if kind == "sloppy" else (1.0, 0.03)
        out = []
        for obj in truth["objects"]:
            if rng.random() < miss:
                continue
            x, y, w, h = obj["box"]
            nx, ny = noisy(x, rng, sd, 0, W - 5), noisy(y, rng, sd, 0, H - 5)
            out.append(
                {
                    "label": obj["label"],
                    "box": [
                        nx,
                        ny,
                        min(noisy(w, rng, sd, 4, 60), W - nx),
                        min(noisy(h, rng, sd, 4, 60), H - ny),
                    ],
                }
            )
        return {"objects": out}

    return answer


def answer_keypoints(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    def answer(truth: Truth, rng: random.Random) -> Answer:
        if kind == "constant":
            return {
                "objects": [{"label": labels[0], "points": [[10, 10, 2], [20, 10, 2], [15, 20, 2]]}]
            }
        if kind == "spammer":
            return {
                "objects": [
                    {
                        "label": labels[0],
                        "points": [[rng.uniform(0, W), rng.uniform(0, H), 2] for _ in range(3)],
                    }
                ]
            }
        sd = 3.0 if kind == "sloppy" else 0.7
        pts = [
            [noisy(x, rng, sd, 0, W), noisy(y, rng, sd, 0, H), v]
            for x, y, v in truth["objects"][0]["points"]
        ]
        return {"objects": [{"label": labels[0], "points": pts}]}

    return answer


def answer_polygons(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    boxes = answer_boxes(kind, labels)

    def answer(truth: Truth, rng: random.Random) -> Answer:
        return {
            "objects": [
                {"label": o["label"], "points": _box_ring(o["box"])}
                for o in boxes(truth, rng)["objects"]
            ]
        }

    return answer


def _box_ring(box: list[float]) -> list[list[float]]:
    x, y, w, h = box
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]


def answer_masks(kind: str, labels: list[str]) -> Callable[[Truth, random.Random], Answer]:
    def answer(truth: Truth, rng: random.Random) -> Answer:
        if kind == "constant":
            mask = np.zeros((H, W), np.uint8)
        elif kind == "spammer":
            mask = np.asarray(
                np.random.default_rng(rng.randint(0, 10**6)).integers(0, len(labels) + 1, (H, W)),
                np.uint8,
            )
        else:
            shift = rng.randint(-6, 6) if kind == "sloppy" else rng.randint(-1, 1)
            mask = np.roll(truth["mask"], shift, axis=1)
        return {"mask_png_base64": png_b64(mask)}

    return answer


def png_b64(mask: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(mask, mode="L").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


# --- scoring --------------------------------------------------------------------------------


def iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw, ih = max(0.0, min(ax2, bx2) - max(a[0], b[0])), max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def box_f1(
    answer: Answer, truth: Truth, boxes_of: Callable[[dict[str, Any]], list[float]]
) -> float:
    got = [(o["label"], boxes_of(o)) for o in answer.get("objects", [])]
    want = [(o["label"], o["box"]) for o in truth["objects"]]
    matched, used = 0, set()
    for label, box in want:
        for j, (glabel, gbox) in enumerate(got):
            if j not in used and glabel == label and iou(box, gbox) >= 0.5:
                matched += 1
                used.add(j)
                break
    return 2 * matched / (len(got) + len(want)) if got or want else 1.0


def ring_box(obj: dict[str, Any]) -> list[float]:
    xs, ys = [p[0] for p in obj["points"]], [p[1] for p in obj["points"]]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def keypoint_score(answer: Answer, truth: Truth) -> float:
    if not answer.get("objects"):
        return 0.0
    got = np.array([p[:2] for p in answer["objects"][0]["points"]], float)
    want = np.array([p[:2] for p in truth["objects"][0]["points"]], float)
    return float(np.mean(np.exp(-np.sum((got - want) ** 2, axis=1) / (2 * 3.0**2))))


def mask_score(answer: Answer, truth: Truth) -> float:
    data = base64.b64decode(answer["mask_png_base64"])
    got = np.asarray(Image.open(io.BytesIO(data)))
    want = truth["mask"]
    ious = []
    for k in (1, 2):
        union = np.logical_or(got == k, want == k).sum()
        if union:
            ious.append(np.logical_and(got == k, want == k).sum() / union)
    return float(np.mean(ious)) if ious else 1.0
