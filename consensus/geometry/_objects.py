"""The object-matching skeleton shared by every per-object geometry type.

Boxes, polygons, keypoint instances and points are all aggregated the same way, and only the
geometry differs::

    order workers (most reliable first, ties by content)
    -> match items into objects (``cluster_items``: Hungarian against seeds, then against the
       fused objects; at most one item per worker per object)
    -> [type-specific repair of the clusters: polygons merge sub-quorum fragments]
    -> keep objects drawn by ``quorum`` of the presence weight (``quorum_filter``)
    -> per kept object: fuse its geometry, vote its label, price the label split
    -> sort objects top-left first (label last), so results never depend on input order.

Small inputs (a submit's few answers of a few objects) run the same loop on tuples of plain
floats (:mod:`consensus.geometry._scalar`) when the type supplies the ``_scalar_*`` hooks
(boxes, points, keypoints): the same numbers, without numpy's per-call overhead on
3-element arrays.

:class:`ObjectAggregator` is that loop, once. A type subclasses it and supplies the
geometry: ``_similarity`` (item-vs-seed score in [0, 1]), ``_seed`` (the cheap representative
the matching passes use), ``_fuse`` (the final geometry of a kept object, or None to drop it),
``_position`` (the sort key) and ``_result`` (its consensus dataclass). Estimators follow the
classification estimators' conventions (:mod:`consensus._params`): parameters are the
constructor's arguments, ``fit`` returns ``self``, fitted attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np

from consensus._params import Estimator, check_is_fitted
from consensus.geometry import _scalar
from consensus.geometry._common import (
    Agreement,
    FloatArray,
    Member,
    as_weights,
    cluster_items,
    hungarian,
    label_probability,
    quorum_filter,
    weighted_label,
    worker_order,
)

__all__ = ["FusedObject", "ObjectAggregator", "object_agreement"]


class ObjectAnswer(Protocol):
    """What the skeleton needs of one worker's parsed answer."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def __len__(self) -> int: ...

    def key(self) -> tuple[Any, ...]: ...


A = TypeVar("A", bound=ObjectAnswer)  # one worker's parsed answer (Boxes, Polygons, ...)
G = TypeVar("G")  # one fused object's geometry
S = TypeVar("S")  # the seed representation the matching passes compare items with
C = TypeVar("C")  # the type's consensus dataclass


@dataclass(frozen=True)
class FusedObject(Generic[G]):
    """One kept object: its geometry, voted label, P(real and rightly labelled), the share of
    presence weight that drew it, and its members as (worker index *in the input*, item)."""

    geometry: G
    label: str
    probability: float
    support: float
    members: tuple[Member, ...]


class ObjectAggregator(Estimator, Generic[A, G, S, C]):
    """Consensus objects of one image from several workers' answers (the skeleton above).

    ``fit(answers, weights, presence_weights=...)``: ``weights`` are the workers' localisation
    weights in [0, 1] (they weight the fusion and the label vote), ``presence_weights`` their
    detection weights (the quorum and the confidence; default ``weights``). Missing weights
    are those of workers we know nothing about (``as_weights``).

    Fitted attributes:
        consensus_: the type's consensus (``BoxConsensus``, ``PolygonConsensus``, ...).
        objects_: the kept objects (:class:`FusedObject`), in output order.
        confidence_: probability that every kept object is real and rightly labelled, every
            dropped one is not, and none was missed by all (what dynamic overlap acts on).
        n_candidates_: number of objects matched before the quorum.
    """

    refit_seeds: ClassVar[bool] = False
    """Re-fuse a seed after every match in the first pass (keypoints: a seed may be one noisy
    click away; for boxes it was most of the run time for no measured gain)."""

    quorum: float

    consensus_: C
    objects_: list[FusedObject[G]]
    confidence_: float
    n_candidates_: int

    # -- what a type supplies ------------------------------------------------------------
    def _match_threshold(self) -> float:
        raise NotImplementedError

    def _prepare(self, answers: Sequence[A]) -> None:
        """Check the answers and set per-fit state (called once, answers in worker order)."""

    def _similarity(self, answer: A, seeds: list[S]) -> FloatArray:
        raise NotImplementedError

    def _seed(self, answers: Sequence[A], members: list[Member], weights: FloatArray) -> S:
        raise NotImplementedError

    def _fuse(self, answers: Sequence[A], members: list[Member], weights: FloatArray) -> G | None:
        raise NotImplementedError

    def _position(self, geometry: G) -> tuple[float, float]:
        """(y, x) of the object's top-left, for the output order."""
        raise NotImplementedError

    def _result(self, objects: list[FusedObject[G]], confidence: float, n_candidates: int) -> C:
        raise NotImplementedError

    def _repair(
        self,
        clusters: list[list[Member]],
        presence: FloatArray,
        seed: Callable[[list[Member]], S],
    ) -> list[list[Member]]:
        """Hook between matching and the quorum (default: none)."""
        return clusters

    # -- the scalar path: what a type supplies to have one ---------------------------------
    def _scalar_items(self, answer: A) -> list[_scalar.Row] | None:
        """The answer's items as tuples of floats; None (the default): no scalar path."""
        return None

    def _scalar_prepare(self, answers: Sequence[A]) -> None:
        """``_prepare`` for the scalar path (the default calls ``_prepare``)."""
        self._prepare(answers)

    def _scalar_key(self, answer: A, items: list[_scalar.Row]) -> tuple[Any, ...]:
        """``answer.key()`` computed from ``items`` (the default calls ``answer.key()``)."""
        return answer.key()

    def _scalar_similarity(self, items: list[_scalar.Row], seeds: list[Any]) -> _scalar.Matrix:
        """``_similarity`` as a list of rows."""
        raise NotImplementedError

    def _scalar_seed(self, rows: list[_scalar.Row], weights: list[float]) -> Any:
        """``_seed`` of the members' item tuples ``rows`` with their weights."""
        raise NotImplementedError

    def _scalar_fuse(self, rows: list[_scalar.Row], weights: list[float]) -> G | None:
        """``_fuse``: the final geometry, in the same numpy form as ``_fuse`` returns."""
        raise NotImplementedError

    # -- the skeleton ----------------------------------------------------------------------
    def fit(
        self,
        answers: Sequence[A],
        weights: Sequence[float] | FloatArray | None = None,
        *,
        presence_weights: Sequence[float] | FloatArray | None = None,
    ) -> Self:
        """Match, keep, fuse and sort the objects of one image; returns self."""
        if self._fit_scalar(answers, weights, presence_weights):
            return self
        w_all = as_weights(weights, len(answers))
        p_all = (
            as_weights(presence_weights, len(answers)) if presence_weights is not None else w_all
        )
        order = worker_order([a.key() for a in answers], w_all)
        ans = [answers[i] for i in order]
        w, pres = w_all[order], p_all[order]
        self._prepare(ans)

        def member_weights(members: Sequence[Member]) -> FloatArray:
            return as_weights(w[[k for k, _ in members]], len(members))

        def seed(members: list[Member]) -> S:
            return self._seed(ans, members, member_weights(members))

        def similarity(k: int, seeds: list[S]) -> FloatArray:
            return self._similarity(ans[k], seeds)

        clusters = cluster_items(
            [len(a) for a in ans],
            similarity,
            seed,
            self._match_threshold(),
            refit_seeds=self.refit_seeds,
        )
        clusters = self._repair(clusters, pres, seed)
        kept, confidence = quorum_filter(clusters, pres, self.quorum)
        objects: list[FusedObject[G]] = []
        for obj in kept:
            mw = member_weights(obj.members)
            geometry = self._fuse(ans, obj.members, mw)
            if geometry is None:
                continue  # nothing to give (a fused outline that holds no area)
            votes = [ans[k].labels[i] for k, i in obj.members]
            label, _ = weighted_label(votes, mw)
            p_label = label_probability(votes, label, pres[[k for k, _ in obj.members]])
            confidence *= p_label
            members = tuple((int(order[k]), i) for k, i in obj.members)
            objects.append(
                FusedObject(geometry, label, obj.probability * p_label, obj.support, members)
            )
        self._finish(objects, confidence, len(clusters))
        return self

    def _finish(self, objects: list[FusedObject[G]], confidence: float, n_candidates: int) -> None:
        objects.sort(key=lambda o: (*self._position(o.geometry), o.label))
        self.objects_ = objects
        self.confidence_ = confidence
        self.n_candidates_ = n_candidates
        self.consensus_ = self._result(objects, confidence, n_candidates)

    def _fit_scalar(
        self,
        answers: Sequence[A],
        weights: Sequence[float] | FloatArray | None,
        presence_weights: Sequence[float] | FloatArray | None,
    ) -> bool:
        """``fit`` on plain floats when the input is small and the type has a scalar path;
        False (nothing done) otherwise. Step for step the loop of ``fit``."""
        n = len(answers)
        if not 0 < n <= _scalar.SCALAR_MAX_WORKERS or type(self)._repair is not (
            ObjectAggregator._repair
        ):
            return False
        items_all = []
        for a in answers:
            items = self._scalar_items(a) if len(a) <= _scalar.SCALAR_MAX_ITEMS else None
            if items is None:
                return False
            items_all.append(items)
        w_all = _scalar.as_weights(weights, n)
        p_all = _scalar.as_weights(presence_weights, n) if presence_weights is not None else w_all
        if w_all is None or p_all is None:
            return False
        keys = [self._scalar_key(a, it) for a, it in zip(answers, items_all, strict=True)]
        order = sorted(range(n), key=lambda i: (-w_all[i], keys[i]))
        ans = [answers[i] for i in order]
        items_of = [items_all[i] for i in order]
        w = [w_all[i] for i in order]
        pres = [p_all[i] for i in order]
        self._scalar_prepare(ans)

        def member_weights(members: Sequence[Member]) -> list[float]:
            mw = [w[k] for k, _ in members]
            total = 0.0
            for x in mw:
                total += x
            return mw if total > 0 else [1e-6] * len(mw)

        def rows(members: Sequence[Member]) -> list[_scalar.Row]:
            return [items_of[k][i] for k, i in members]

        clusters = cluster_items(
            [len(it) for it in items_of],
            lambda k, seeds: self._scalar_similarity(items_of[k], seeds),
            lambda members: self._scalar_seed(rows(members), member_weights(members)),
            self._match_threshold(),
            refit_seeds=self.refit_seeds,
            match=_scalar.hungarian,
        )
        kept, confidence = _scalar.quorum_filter(clusters, pres, self.quorum)
        objects: list[FusedObject[G]] = []
        for obj in kept:
            mw = member_weights(obj.members)
            geometry = self._scalar_fuse(rows(obj.members), mw)
            if geometry is None:
                continue
            votes = [ans[k].labels[i] for k, i in obj.members]
            label, _ = weighted_label(votes, mw)
            p_label = _scalar.label_probability(votes, label, [pres[k] for k, _ in obj.members])
            confidence *= p_label
            members = tuple((order[k], i) for k, i in obj.members)
            objects.append(
                FusedObject(geometry, label, obj.probability * p_label, obj.support, members)
            )
        self._finish(objects, confidence, len(clusters))
        return True

    def _check_fitted(self) -> None:
        check_is_fitted(self, "consensus_")


def object_probabilities(objects: Sequence[FusedObject[Any]]) -> tuple[FloatArray, FloatArray]:
    """(object_confidence, support) arrays of the kept objects."""
    return (
        np.asarray([o.probability for o in objects], dtype=np.float64),
        np.asarray([o.support for o in objects], dtype=np.float64),
    )


def object_agreement(
    sim: FloatArray | _scalar.Matrix,
    labels_a: Sequence[str],
    labels_c: Sequence[str],
    noun: str,
    metric: str,
    match_threshold: float,
    threshold: float,
) -> Agreement:
    """F1-over-objects agreement of one answer with the consensus (boxes, polygons, keypoint
    instances): objects matched one-to-one at ``sim >= match_threshold`` with the same label.

    ``quality`` is the similarity-weighted F1, so a worker whose objects all match but
    loosely scores below a tight one; ``reason`` names what was mislabelled, extra or missed.
    ``sim`` is an (n_a, n_c) array, or on the scalar path a list of n_a rows.
    """
    scalar = isinstance(sim, list)
    n_a, n_c = (len(labels_a), len(labels_c)) if scalar else sim.shape  # type: ignore[union-attr]
    if n_a == 0 and n_c == 0:
        return Agreement(1.0, threshold, 1.0, "", {"matched": 0.0})
    pairs = (
        _scalar.hungarian(sim, match_threshold)  # type: ignore[arg-type]
        if scalar
        else hungarian(sim, match_threshold)  # type: ignore[arg-type]
    )
    good = [(i, j) for i, j in pairs if labels_a[i] == labels_c[j]]
    f1 = 2.0 * len(good) / (n_a + n_c)
    quality = 2.0 * sum(float(sim[i][j]) for i, j in good) / (n_a + n_c)
    reasons: list[str] = []
    matched_a = {i for i, _ in pairs}
    matched_c = {j for _, j in pairs}
    for i, j in pairs:
        if labels_a[i] != labels_c[j]:
            reasons.append(
                f"{noun} {i} labelled '{labels_a[i]}' but consensus says '{labels_c[j]}'"
            )
    for i in range(n_a):
        if i not in matched_a:
            best = float(max(sim[i]) if scalar else sim[i].max()) if n_c else 0.0  # type: ignore[union-attr]
            reasons.append(
                f"{noun} {i} matched no consensus object (best {metric} {best:.2f} < {match_threshold:g})"
            )
    missed = [j for j in range(n_c) if j not in matched_c]
    if missed:
        reasons.append(
            f"missed {len(missed)} of {n_c} consensus objects ({', '.join(labels_c[j] for j in missed[:3])})"
        )
    if not good:
        mean_sim = 0.0
    elif scalar:
        mean_sim = _scalar.pairwise_sum([sim[i][j] for i, j in good]) / len(good)
    else:
        mean_sim = float(np.mean([sim[i][j] for i, j in good]))
    reason = "; ".join(reasons[:4]) if f1 < threshold or reasons else ""
    if f1 < threshold:
        reason = f"F1 {f1:.2f} < {threshold:g}: " + reason
    return Agreement(
        f1,
        threshold,
        quality,
        reason,
        {"matched": float(len(good)), f"mean_{metric.lower()}": mean_sim},
    )
