"""Worker reliability for geometry, carried across tasks, per worker and annotation type.

Two numbers per worker, both smoothed means over their graded answers (against gold, or against
the leave-one-out consensus of the other workers):

- *skill*: the continuous quality (IoU- or OKS-weighted F1): how well they place what they draw.
  It weights medians and pixel votes.
- *detection*: the F1 at the match threshold: whether they draw the objects that are there and
  nothing else. It weights the quorum and the confidence. Kept apart because a sloppy worker
  who boxes every car loosely is a poor judge of where an edge is but a good judge of whether a
  car is there.

Weights rescale each so that what a random answer scores by chance maps to 0: spammers end at
weight 0, never negative, and so can never push a consensus the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from consensus.geometry._common import Agreement, FloatArray

A = TypeVar("A")
C = TypeVar("C")


@dataclass
class WorkerSkill:
    """Sufficient statistics: sums of quality and counts, from consensus and from gold."""

    score_sum: float = 0.0
    detect_sum: float = 0.0
    n: float = 0.0
    gold_sum: float = 0.0
    gold_detect_sum: float = 0.0
    n_gold: float = 0.0


@dataclass
class GeometrySkills:
    """Per-worker skills for one annotation type; plain-JSON serialisable.

    Args:
        annotation_type: "bbox", "polygon", "segmentation" or "keypoints".
        prior_skill: skill of a worker never seen (a pseudo-count prior, so one lucky or unlucky
            task does not swing a new worker to an extreme).
        prior_strength: how many tasks the prior is worth.
        chance: the quality an uninformative answer reaches; maps to weight 0.
        gold_weight: one gold task counts as this many consensus tasks (gold is exact).
    """

    annotation_type: str
    prior_skill: float = 0.7
    prior_strength: float = 2.0
    chance: float = 0.3
    gold_weight: float = 3.0
    workers: dict[str, WorkerSkill] = field(default_factory=dict)

    def skill(self, worker: str) -> float:
        """Smoothed mean quality (IoU/OKS-weighted F1)."""
        s = self.workers.get(worker, WorkerSkill())
        return self._mean(s.score_sum, s.gold_sum, s)

    def detection(self, worker: str) -> float:
        """Smoothed mean F1 at the match threshold."""
        s = self.workers.get(worker, WorkerSkill())
        return self._mean(s.detect_sum, s.gold_detect_sum, s)

    def _mean(self, total: float, gold_total: float, s: WorkerSkill) -> float:
        num = self.prior_skill * self.prior_strength + total + self.gold_weight * gold_total
        den = self.prior_strength + s.n + self.gold_weight * s.n_gold
        return float(num / den)

    def _rescale(self, value: float) -> float:
        return float(np.clip((value - self.chance) / (1.0 - self.chance), 0.0, 1.0))

    def weight(self, worker: str) -> float:
        return self._rescale(self.skill(worker))

    def presence_weight(self, worker: str) -> float:
        return self._rescale(self.detection(worker))

    def weights(self, workers: Iterable[str]) -> FloatArray:
        """Localisation weights, in the order of ``workers``."""
        return np.asarray([self.weight(w) for w in workers], dtype=np.float64)

    def presence_weights(self, workers: Iterable[str]) -> FloatArray:
        """Detection weights, in the order of ``workers``."""
        return np.asarray([self.presence_weight(w) for w in workers], dtype=np.float64)

    def update(self, worker: str, agreement: Agreement, *, gold: bool = False) -> None:
        """Grade one answer with its ``agreement(...)`` (against gold or the closed consensus)."""
        s = self.workers.setdefault(worker, WorkerSkill())
        q = float(np.clip(agreement.quality, 0.0, 1.0))
        d = float(np.clip(agreement.score, 0.0, 1.0))
        if gold:
            s.gold_sum += q
            s.gold_detect_sum += d
            s.n_gold += 1
        else:
            s.score_sum += q
            s.detect_sum += d
            s.n += 1

    def copy(self) -> GeometrySkills:
        return GeometrySkills.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.annotation_type,
            "params": {
                "prior_skill": self.prior_skill,
                "prior_strength": self.prior_strength,
                "chance": self.chance,
                "gold_weight": self.gold_weight,
            },
            "workers": {
                w: {
                    "skill": round(self.skill(w), 6),
                    "weight": round(self.weight(w), 6),
                    "detection": round(self.detection(w), 6),
                    "presence_weight": round(self.presence_weight(w), 6),
                    "score_sum": s.score_sum,
                    "detect_sum": s.detect_sum,
                    "n": s.n,
                    "gold_sum": s.gold_sum,
                    "gold_detect_sum": s.gold_detect_sum,
                    "n_gold": s.n_gold,
                }
                for w, s in sorted(self.workers.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeometrySkills:
        p = {k: float(v) for k, v in dict(data.get("params", {})).items()}
        out = cls(
            str(data["type"]),
            prior_skill=p.get("prior_skill", 0.7),
            prior_strength=p.get("prior_strength", 2.0),
            chance=p.get("chance", 0.3),
            gold_weight=p.get("gold_weight", 3.0),
        )
        for w, s in dict(data.get("workers", {})).items():
            out.workers[str(w)] = WorkerSkill(
                **{k: float(s.get(k, 0.0)) for k in WorkerSkill.__dataclass_fields__}
            )
        return out


@dataclass(frozen=True)
class TaskAnswers(Generic[A]):
    """One task's answers in parsed form, with the workers who gave them."""

    task: str
    workers: tuple[str, ...]
    answers: tuple[A, ...]


def fit_skills(
    tasks: Sequence[TaskAnswers[A]],
    aggregate: Callable[[Sequence[A], FloatArray, FloatArray], C],
    agree: Callable[[A, A], Agreement],
    consensus_answer: Callable[[C], A],
    *,
    prior: GeometrySkills,
    gold: Mapping[str, A] | None = None,
    n_passes: int = 3,
) -> GeometrySkills:
    """Estimate skills EM-style from leave-one-out agreement (and gold), starting from ``prior``.

    Each pass scores every answer against the consensus of the *other* workers on its task,
    weighted by the previous pass's skills, so a worker never grades themself and a spammer's
    boxes cannot vote themselves into the consensus. Scores from earlier batches (in ``prior``)
    stay as evidence. Two or three passes settle: the weights only re-rank the median.
    """
    gold = gold or {}
    base = prior.copy()
    for t in tasks:
        if t.task in gold:
            for worker, answer in zip(t.workers, t.answers, strict=True):
                base.update(worker, agree(answer, gold[t.task]), gold=True)
    current = base
    for _ in range(n_passes):
        nxt = base.copy()
        for t in tasks:
            graded = leave_one_out(
                t.workers, t.answers, aggregate, agree, consensus_answer, current
            )
            for worker, agreement in zip(t.workers, graded, strict=True):
                if agreement is not None:
                    nxt.update(worker, agreement)
        current = nxt
    return current


def leave_one_out(
    workers: Sequence[str],
    answers: Sequence[A],
    aggregate: Callable[[Sequence[A], FloatArray, FloatArray], C],
    agree: Callable[[A, A], Agreement],
    consensus_answer: Callable[[C], A],
    skills: GeometrySkills,
) -> list[Agreement | None]:
    """Grade each answer of one task against the consensus of the other answers.

    This is what the service should feed ``skills.update`` with when a task closes (grading
    against the full consensus would let every worker vote for themself). ``None`` for a task
    with a single answer: there is nobody to compare with.
    """
    if len(answers) < 2:
        return [None] * len(answers)
    w, pw = skills.weights(workers), skills.presence_weights(workers)
    out: list[Agreement | None] = []
    for k, answer in enumerate(answers):
        others = [a for j, a in enumerate(answers) if j != k]
        loo = aggregate(others, np.delete(w, k), np.delete(pw, k))
        out.append(agree(answer, consensus_answer(loo)))
    return out
