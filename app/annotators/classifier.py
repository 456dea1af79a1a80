"""The builtin model: image features and a linear classifier, kept as JSON.

Features (scikit-image), on the image downscaled to 64x64: a colour histogram in HSV (8 bins
per channel), a texture histogram of uniform local binary patterns (P=8, R=1: 10 bins) and a
HOG descriptor (9 orientations, 16-pixel cells, 2x2-cell blocks: 324 values) — 358 numbers that
see colour, texture and coarse shape without any downloaded network.

The classifier (scikit-learn): features standardised, then multinomial logistic regression for
classification, one binary logistic regression per label for multi-label. Only the numbers are
kept (means, scales, coefficients, intercepts), as JSON: predicting is a dot product and a
softmax here, and nothing is ever unpickled from the database.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FEATURES = "hsv8+lbp8u+hog9x16/1"
"""Names the feature recipe; a state fitted on another recipe is refitted, never used."""
SIDE = 64
MIN_EXAMPLES = 4
"""Fewer consensus answers than this: no fit (a line through four points is already a guess)."""

Vector = NDArray[np.float64]


_CACHE: OrderedDict[str, Vector] = OrderedDict()
CACHE_SIZE = 5_000
"""Feature vectors kept by the reconciler's process (~14 MB, as many as one fit reads): a refit
computes only its new examples'. Processes cannot disagree: a vector is a pure function of the
image bytes, keyed by their SHA-256 (the store's own address)."""


def features_of(sha256: str, load: Callable[[str], bytes]) -> Vector:
    """``features(load(sha256))``, remembered for the last ``CACHE_SIZE`` images."""
    cached = _CACHE.get(sha256)
    if cached is not None:
        _CACHE.move_to_end(sha256)
        return cached
    vector = features(load(sha256))
    _CACHE[sha256] = vector
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return vector


def features(image_bytes: bytes) -> Vector:
    """The feature vector of one image (any format Pillow reads)."""
    from PIL import Image
    from skimage.color import rgb2hsv
    from skimage.feature import hog, local_binary_pattern

    with Image.open(io.BytesIO(image_bytes)) as im:
        small = im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float64) / 255.0
    hsv = rgb2hsv(rgb)
    colour = np.concatenate(
        [np.histogram(hsv[..., c], bins=8, range=(0.0, 1.0))[0] for c in range(3)]
    ).astype(np.float64) / (SIDE * SIDE)
    gray = (rgb @ np.array([0.299, 0.587, 0.114]) * 255).astype(np.uint8)
    lbp = local_binary_pattern(gray, P=8, R=1, method="uniform")  # type: ignore[no-untyped-call]
    texture = np.histogram(lbp, bins=10, range=(0, 10))[0].astype(np.float64) / (SIDE * SIDE)
    shape = hog(
        gray, orientations=9, pixels_per_cell=(16, 16), cells_per_block=(2, 2), feature_vector=True
    )
    return np.concatenate([colour, texture, np.asarray(shape, dtype=np.float64)])


def fit(
    x: Vector, targets: Sequence[Any], labels: Sequence[str], *, multilabel: bool
) -> dict[str, Any] | None:
    """Fit on rows of ``x`` with their ``targets`` (a label, or for multi-label a list of
    labels); the JSON state, or None when the examples cannot teach anything yet (too few, or a
    single class)."""
    from sklearn.linear_model import LogisticRegression

    if len(targets) < MIN_EXAMPLES:
        return None
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    state: dict[str, Any] = {
        "features": FEATURES,
        "multilabel": multilabel,
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "examples": len(targets),
    }
    if not multilabel:
        seen = [label for label in labels if label in set(targets)]
        if len(seen) < 2:
            return None
        y = np.array([seen.index(t) for t in targets])
        model = LogisticRegression(C=1.0, max_iter=1000).fit(z, y)
        coef, intercept = model.coef_, model.intercept_
        if len(seen) == 2:  # binary: sklearn keeps one row (class 1 vs 0); softmax wants two
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return {**state, "classes": seen, "coef": coef.tolist(), "intercept": intercept.tolist()}
    coefs, intercepts = [], []
    for label in labels:
        y = np.array([label in t for t in targets], dtype=int)
        if y.min() == y.max():
            # Always (or never) given so far: a constant, mildly hedged probability.
            p = (y.sum() + 1) / (len(y) + 2)
            coefs.append([0.0] * x.shape[1])
            intercepts.append(float(np.log(p / (1 - p))))
            continue
        model = LogisticRegression(C=1.0, max_iter=1000).fit(z, y)
        coefs.append(model.coef_[0].tolist())
        intercepts.append(float(model.intercept_[0]))
    return {**state, "classes": list(labels), "coef": coefs, "intercept": intercepts}


def predict(state: dict[str, Any], x: Vector) -> tuple[dict[str, Any], float]:
    """(answer in the project's shape, score 0..1) for one feature vector."""
    z = (x - np.asarray(state["mean"])) / np.asarray(state["scale"])
    logits = np.asarray(state["coef"]) @ z + np.asarray(state["intercept"])
    classes: list[str] = state["classes"]
    if not state["multilabel"]:
        p = np.exp(logits - logits.max())  # shifted: exp of large logits would overflow
        p /= p.sum()
        best = int(p.argmax())
        return {"label": classes[best]}, float(p[best])
    p = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
    chosen = [c for c, pi in zip(classes, p, strict=True) if pi >= 0.5]
    # The whole set is right only if every label's call is: the least sure call bounds it.
    return {"labels": chosen}, float(np.min(np.maximum(p, 1 - p)))


def usable(state: dict[str, Any] | None) -> bool:
    return state is not None and state.get("features") == FEATURES
