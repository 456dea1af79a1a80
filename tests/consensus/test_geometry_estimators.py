"""The geometry estimator classes: parameters, fitted attributes, the shared skeleton."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from consensus._params import clone
from consensus.errors import NotFittedError
from consensus.geometry import (
    BoxAggregator,
    Boxes,
    KeypointAggregator,
    MaskAggregator,
    ObjectAggregator,
    PointAggregator,
    Points,
    PolygonAggregator,
    Polygons,
    Poses,
    aggregate_boxes,
    aggregate_keypoints,
    aggregate_points,
    aggregate_polygons,
    aggregate_semantic,
)

SQUARE = [[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]]
SQUARE_2 = [[11.0, 10.0], [41.0, 10.0], [41.0, 41.0], [11.0, 41.0]]
FAR = [[100.0, 100.0], [120.0, 100.0], [120.0, 120.0]]


def _boxes() -> list[Boxes]:
    return [
        Boxes(np.array([[10.0, 20, 50, 30], [200, 100, 20, 60]]), ("car", "person")),
        Boxes(np.array([[12.0, 20, 50, 30]]), ("car",)),
        Boxes(np.array([[201.0, 101, 20, 60], [11, 21, 52, 30]]), ("person", "truck")),
    ]


def _polygons() -> list[Polygons]:
    return [
        Polygons.from_points([SQUARE, FAR], ["a", "b"]),
        Polygons.from_points([SQUARE_2], ["a"]),
        Polygons.from_points([SQUARE], ["a"]),
    ]


def _poses() -> list[Poses]:
    base = np.array([[10.0, 10, 2], [20, 10, 2], [15, 30, 2]])
    return [
        Poses(base[None], ("person",)),
        Poses((base + np.array([1.0, 0, 0]))[None], ("person",)),
        Poses(np.zeros((0, 3, 3)), ()),
    ]


def _points() -> list[Points]:
    return [
        Points(np.array([[10.0, 10], [50, 50]]), ("cell", "cell")),
        Points(np.array([[12.0, 11]]), ("cell",)),
        Points(np.array([[50.0, 51], [10, 9]]), ("cell", "cell")),
    ]


CASES: list[tuple[ObjectAggregator[Any, Any, Any, Any], Any, Any, str]] = [
    (BoxAggregator(quorum=0.4), _boxes, lambda a, w, pw: aggregate_boxes(a, w, presence_weights=pw, quorum=0.4), "boxes"),
    (PolygonAggregator(), _polygons, lambda a, w, pw: aggregate_polygons(a, w, presence_weights=pw), "polygons"),
    (KeypointAggregator(oks_threshold=0.4), _poses, lambda a, w, pw: aggregate_keypoints(a, w, presence_weights=pw, oks_threshold=0.4), "poses"),
    (PointAggregator(radius=6.0), _points, lambda a, w, pw: aggregate_points(a, w, presence_weights=pw, radius=6.0), "points"),
]  # fmt: skip


@pytest.mark.parametrize(("est", "make", "function", "attr"), CASES)
def test_estimator_is_the_function(
    est: ObjectAggregator[Any, Any, Any, Any], make: Any, function: Any, attr: str
) -> None:
    answers = make()
    w, pw = np.array([0.9, 0.6, 0.8]), np.array([0.7, 0.9, 0.5])
    fitted = clone(est).fit(answers, w, presence_weights=pw)
    reference = function(answers, w, pw)
    assert _same(fitted.consensus_, reference)
    assert fitted.confidence_ == reference.confidence
    assert fitted.n_candidates_ == reference.n_candidates
    assert getattr(fitted, attr + "_") is fitted.consensus_.__dict__[attr]
    assert [o.label for o in fitted.objects_] == list(getattr(reference, attr).labels)
    np.testing.assert_allclose(
        [o.probability for o in fitted.objects_], reference.object_confidence
    )


def _same(a: Any, b: Any) -> bool:
    """Dataclass equality through numpy arrays and mask crops."""
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(
            _same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__
        )
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


@pytest.mark.parametrize(("est", "make"), [c[:2] for c in CASES])
def test_members_point_into_the_input_order(
    est: ObjectAggregator[Any, Any, Any, Any], make: Any
) -> None:
    """Workers are visited most reliable first, but members name the caller's workers."""
    answers = make()
    fitted = clone(est).fit(answers, [0.2, 0.9, 0.5])
    for obj in fitted.objects_:
        for k, i in obj.members:
            assert i < len(answers[k])
    reversed_fit = clone(est).fit(answers[::-1], [0.5, 0.9, 0.2])
    assert _same(reversed_fit.consensus_, fitted.consensus_)
    back = {tuple(sorted((2 - k, i) for k, i in o.members)) for o in reversed_fit.objects_}
    assert back == {tuple(sorted(o.members)) for o in fitted.objects_}


def test_parameters_follow_the_estimator_conventions() -> None:
    est = KeypointAggregator(flip_pairs=((0, 1),), quorum=0.3)
    assert est.get_params() == {
        "flip_pairs": ((0, 1),),
        "oks_threshold": 0.5,
        "quorum": 0.3,
        "sigmas": None,
    }
    assert repr(est) == "KeypointAggregator(flip_pairs=((0, 1),), quorum=0.3)"
    assert clone(est.set_params(quorum=0.6)).quorum == 0.6
    assert BoxAggregator().get_params() == {"iou_threshold": 0.5, "quorum": 0.5}
    assert MaskAggregator().get_params() == {"weight_power": 0.5}


def test_agreement_against_the_fitted_consensus() -> None:
    answers = _boxes()
    est = BoxAggregator(quorum=0.4).fit(answers)
    assert est.agreement(answers[0]).accepted
    with pytest.raises(NotFittedError):
        BoxAggregator().agreement(answers[0])
    pts = PointAggregator(radius=6.0).fit(_points())
    assert pts.agreement(_points()[1]).score == pytest.approx(2 / 3)
    kp = KeypointAggregator().fit(_poses())
    assert kp.n_keypoints_ == 3
    assert kp.agreement(_poses()[0]).accepted


def test_mask_aggregator_is_the_function() -> None:
    rng = np.random.default_rng(0)
    masks = [rng.integers(0, 3, (6, 7)).astype(np.uint8) for _ in range(4)]
    w = [0.9, 0.2, 0.6, 0.6]
    est = MaskAggregator().fit(masks, w)
    ref = aggregate_semantic(masks, w)
    np.testing.assert_array_equal(est.mask_, ref.mask)
    np.testing.assert_array_equal(est.pixel_confidence_, ref.pixel_confidence)
    assert est.confidence_ == ref.confidence
    assert est.agreement(ref.mask).score == 1.0
    with pytest.raises(NotFittedError):
        MaskAggregator().agreement(masks[0])


def test_keypoints_refuse_mixed_sizes() -> None:
    with pytest.raises(ValueError, match="number of keypoints"):
        KeypointAggregator().fit(
            [Poses(np.zeros((1, 3, 3)), ("p",)), Poses(np.zeros((1, 4, 3)), ("p",))]
        )
