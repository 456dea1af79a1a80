"""The scalar path of small geometry consensus gives what the numpy path gives.

``ObjectAggregator.fit`` runs plain-float code (``consensus.geometry._scalar``) for a few answers
of a few objects; these tests fit the same random inputs both ways (the numpy path forced by
setting ``SCALAR_MAX_WORKERS`` to 0) and compare everything a caller can see: geometry, labels,
per-object confidence and support, the image confidence, the candidates and every object's
members (which worker's which item). Inputs are built to hit the branches: objects some workers
missed, extra objects, split label votes, zero and equal weights, identical answers (ties).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from consensus.geometry import (
    Agreement,
    BoxAggregator,
    Boxes,
    KeypointAggregator,
    PointAggregator,
    Points,
    Poses,
    _scalar,
    box_agreement,
    flip_pairs_from_names,
    keypoint_agreement,
    point_agreement,
)
from consensus.geometry._common import weighted_median

TOL = 1e-9
LABELS = ("car", "person", "truck")


def _weights(rng: random.Random, n: int) -> list[float] | None:
    kind = rng.random()
    if kind < 0.1:
        return None
    if kind < 0.2:
        return [0.5] * n  # equal weights: the order falls to the answers' content
    if kind < 0.25:
        return [0.0] * n  # only spammers: tiny equal weights
    return [rng.choice([0.0, 1.0, rng.random(), rng.random()]) for _ in range(n)]


def _label(rng: random.Random, base: str) -> str:
    return base if rng.random() < 0.8 else rng.choice(LABELS)


def _random_boxes(rng: random.Random) -> list[Boxes]:
    n_workers = rng.randint(1, 5)
    truth = [
        ([rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(5, 80), rng.uniform(5, 80)], lab)
        for lab in rng.choices(LABELS, k=rng.randint(0, 5))
    ]
    answers: list[Boxes] = []
    for _ in range(n_workers):
        if answers and rng.random() < 0.15:
            answers.append(rng.choice(answers))  # a copy: exact ties everywhere
            continue
        rows, labels = [], []
        sd = rng.choice([0.5, 3.0, 12.0])
        for box, lab in truth:
            if rng.random() < 0.15:
                continue  # missed
            x, y, w, h = box
            rows.append([x + rng.gauss(0, sd), y + rng.gauss(0, sd), w + abs(rng.gauss(0, sd)), h])
            labels.append(_label(rng, lab))
        if rng.random() < 0.2:  # an extra, sometimes overlapping a real one
            rows.append([rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(5, 80), 20.0])
            labels.append(rng.choice(LABELS))
        if rng.random() < 0.1:
            rows = [[round(v) for v in r] for r in rows]  # integer pixels: ties in medians
        order = list(range(len(rows)))
        rng.shuffle(order)
        answers.append(
            Boxes(
                np.asarray([rows[i] for i in order], dtype=np.float64).reshape(-1, 4),
                tuple(labels[i] for i in order),
            )
        )
    return answers


def _random_points(rng: random.Random) -> list[Points]:
    n_workers = rng.randint(1, 5)
    truth = [
        ([rng.uniform(0, 200), rng.uniform(0, 200)], lab)
        for lab in rng.choices(LABELS, k=rng.randint(0, 5))
    ]
    answers: list[Points] = []
    for _ in range(n_workers):
        if answers and rng.random() < 0.15:
            answers.append(rng.choice(answers))
            continue
        rows, labels = [], []
        for (x, y), lab in truth:
            if rng.random() < 0.15:
                continue
            rows.append([x + rng.gauss(0, 3), y + rng.gauss(0, 3)])
            labels.append(_label(rng, lab))
        if rng.random() < 0.2:
            rows.append([rng.uniform(0, 200), rng.uniform(0, 200)])
            labels.append(rng.choice(LABELS))
        answers.append(Points(np.asarray(rows, dtype=np.float64).reshape(-1, 2), tuple(labels)))
    return answers


NAMES = ["left_eye", "right_eye", "nose"]


def _random_poses(rng: random.Random) -> list[Poses]:
    n_workers = rng.randint(1, 5)
    truth = []
    for _ in range(rng.randint(0, 4)):
        cx, cy, s = rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(5, 30)
        truth.append([[cx - s, cy], [cx + s, cy], [cx, cy + s]])
    answers: list[Poses] = []
    for _ in range(n_workers):
        if answers and rng.random() < 0.15:
            answers.append(rng.choice(answers))
            continue
        insts = []
        for kps in truth:
            if rng.random() < 0.15:
                continue
            inst = [[x + rng.gauss(0, 2), y + rng.gauss(0, 2), 2.0] for x, y in kps]
            if rng.random() < 0.2:
                inst[0], inst[1] = inst[1], inst[0]  # mirrored
            if rng.random() < 0.2:
                inst[rng.randrange(3)][2] = rng.choice([0.0, 1.0])
            insts.append(inst)
        if rng.random() < 0.15:
            insts.append([[rng.uniform(0, 200), rng.uniform(0, 200), 2.0] for _ in range(3)])
        arr = np.asarray(insts, dtype=np.float64).reshape(-1, 3, 3)
        answers.append(Poses(arr, ("face",) * len(insts)))
    return answers


def _fit_both(
    make: Any, answers: list[Any], rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    n = len(answers)
    w = _weights(rng, n)
    pw = _weights(rng, n) if rng.random() < 0.5 else None
    scalar = make()
    assert scalar._fit_scalar(answers, w, pw), "the scalar path was not taken"
    with monkeypatch.context() as m:
        m.setattr(_scalar, "SCALAR_MAX_WORKERS", 0)
        vector = make().fit(answers, w, presence_weights=pw)
    return scalar, vector


def _same(scalar: Any, vector: Any, geometry: str) -> None:
    a, b = scalar.consensus_, vector.consensus_
    ga, gb = getattr(a, geometry), getattr(b, geometry)
    field = {"boxes": "xywh", "points": "xy", "poses": "kps"}[geometry]
    arr_a, arr_b = getattr(ga, field), getattr(gb, field)
    assert arr_a.shape == arr_b.shape
    np.testing.assert_allclose(arr_a, arr_b, rtol=0, atol=TOL)
    assert ga.labels == gb.labels
    np.testing.assert_allclose(a.object_confidence, b.object_confidence, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.support, b.support, rtol=0, atol=TOL)
    assert abs(a.confidence - b.confidence) <= TOL
    assert a.n_candidates == b.n_candidates
    assert [o.members for o in scalar.objects_] == [o.members for o in vector.objects_]


@pytest.mark.parametrize("seed", range(2))
def test_boxes_scalar_path_matches_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        answers = _random_boxes(rng)
        quorum = rng.choice([0.5, 0.5, 0.3, 0.7])
        scalar, vector = _fit_both(
            lambda q=quorum: BoxAggregator(quorum=q), answers, rng, monkeypatch
        )
        _same(scalar, vector, "boxes")


@pytest.mark.parametrize("seed", range(2))
def test_points_scalar_path_matches_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(100 + seed)
    for _ in range(200):
        answers = _random_points(rng)
        radius = rng.choice([4.0, 10.0, 25.0])
        scalar, vector = _fit_both(lambda r=radius: PointAggregator(r), answers, rng, monkeypatch)
        _same(scalar, vector, "points")


@pytest.mark.parametrize("seed", range(2))
def test_keypoints_scalar_path_matches_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(200 + seed)
    pairs = flip_pairs_from_names(NAMES)
    for _ in range(200):
        answers = _random_poses(rng)
        flips = pairs if rng.random() < 0.7 else []
        sigmas = [0.025, 0.025, 0.026] if rng.random() < 0.5 else None

        def make(f: Any = flips, s: Any = sigmas) -> KeypointAggregator:
            return KeypointAggregator(s, f)

        scalar, vector = _fit_both(make, answers, rng, monkeypatch)
        _same(scalar, vector, "poses")


def test_large_inputs_take_the_numpy_path() -> None:
    rng = random.Random(5)
    answers = [
        Boxes(np.array([[10.0 + rng.random(), 10, 20, 20]]), ("car",))
        for _ in range(_scalar.SCALAR_MAX_WORKERS + 1)
    ]
    assert not BoxAggregator()._fit_scalar(answers, None, None)
    assert BoxAggregator()._fit_scalar(answers[:3], None, None)
    many = Boxes(
        np.array([[10.0 * i, 0, 5, 5] for i in range(_scalar.SCALAR_MAX_ITEMS + 1)]),
        ("car",) * (_scalar.SCALAR_MAX_ITEMS + 1),
    )
    assert not BoxAggregator()._fit_scalar([many, many], None, None)


def test_assignment_breaks_ties_like_scipy() -> None:
    """Small integer costs tie all the time: the pairs must still be scipy's, exactly."""
    rng = random.Random(11)
    for _ in range(3000):
        n, m = rng.randint(1, 6), rng.randint(1, 6)
        pool = rng.choice([[0.0, 1.0], [0.0, 1.0, 2.0], [0.1, 0.25, 1e6], None])
        cost = [[rng.choice(pool) if pool else rng.random() for _ in range(m)] for _ in range(n)]
        rows, cols = linear_sum_assignment(np.asarray(cost))
        assert _scalar.assignment(cost) == list(zip(rows.tolist(), cols.tolist(), strict=True))


def test_weighted_median_matches_numpy_on_ties() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        m, d = rng.randint(1, 6), rng.randint(1, 4)
        values = [[float(rng.randint(0, 3)) for _ in range(d)] for _ in range(m)]
        weights = [rng.choice([0.0, 0.5, 1.0, rng.random()]) for _ in range(m)]
        got = _scalar.weighted_median([tuple(r) for r in values], weights)
        want = weighted_median(np.asarray(values), np.asarray(weights)).tolist()
        assert got == want


def _same_agreement(a: Agreement, b: Agreement) -> None:
    assert a.score == b.score
    assert a.threshold == b.threshold
    assert abs(a.quality - b.quality) <= TOL
    assert a.reason == b.reason
    assert a.details.keys() == b.details.keys()
    for k, v in a.details.items():
        assert abs(v - b.details[k]) <= TOL


def _agreements_both(
    agree: Any, answers: list[Any], consensus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = [*((a, consensus) for a in answers), *((consensus, a) for a in answers[:2])]
    scalar = [agree(a, c) for a, c in pairs]
    with monkeypatch.context() as m:
        m.setattr(_scalar, "SCALAR_MAX_AGREEMENT_ITEMS", -1)  # every answer takes the numpy path
        vector = [agree(a, c) for a, c in pairs]
    for x, y in zip(scalar, vector, strict=True):
        _same_agreement(x, y)


def test_agreements_match_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """box/point/keypoint agreement (what judges each answer) gives the same on both paths,
    reasons included: matched, mislabelled, extra, missed and swapped objects."""
    rng = random.Random(21)
    pairs = flip_pairs_from_names(NAMES)
    for _ in range(150):
        boxes = _random_boxes(rng)
        cons = BoxAggregator().fit(boxes).boxes_
        _agreements_both(box_agreement, boxes, cons, monkeypatch)
        points = _random_points(rng)
        radius = rng.choice([4.0, 10.0])
        pcons = PointAggregator(radius).fit(points).points_
        _agreements_both(
            lambda a, c, r=radius: point_agreement(a, c, radius=r), points, pcons, monkeypatch
        )
        poses = _random_poses(rng)
        kcons = KeypointAggregator(flip_pairs=pairs).fit(poses).poses_
        _agreements_both(
            lambda a, c: keypoint_agreement(a, c, flip_pairs=pairs), poses, kcons, monkeypatch
        )


def test_hungarian_matches_numpy_with_and_without_the_shortcut() -> None:
    """Unique pairs above the threshold skip the assignment; shared ones go through it."""
    from consensus.geometry._common import hungarian

    rng = random.Random(17)
    for _ in range(3000):
        n, m = rng.randint(1, 6), rng.randint(1, 6)
        sim = [[rng.choice([0.0, 0.2, 0.5, 0.7, rng.random()]) for _ in range(m)] for _ in range(n)]
        assert _scalar.hungarian(sim, 0.5) == hungarian(np.asarray(sim), 0.5)
