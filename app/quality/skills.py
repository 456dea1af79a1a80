"""Worker accuracy per project, as a Beta posterior over graded answers, and the ban rule."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.models import WorkerSkill

# Prior Beta(3.5, 1.5): a newcomer is taken as right 70% of the time, worth five answers of
# evidence, so three lucky answers do not make an expert nor three unlucky ones a spammer.
PRIOR_RIGHT, PRIOR_WRONG = 3.5, 1.5
MIN_GRADED_FOR_BAN = 5
BAN_CREDIBILITY = 0.9
"""Ban only when the accuracy is below the threshold with this probability."""


@dataclass(frozen=True)
class Skill:
    accuracy: float
    graded: int
    right: float
    """Prior plus graded agreement: the posterior Beta(right, wrong)."""
    wrong: float

    @cached_property
    def upper(self) -> float:
        """The accuracy's upper credible bound (``BAN_CREDIBILITY``). Computed on first use: the
        consensus at each submit reads only ``accuracy``, and a Beta quantile costs ~0.2 ms."""
        # scipy.special, not scipy.stats (beta.ppf is this function): a quarter of the import
        # (scipy.stats took 14 s on a loaded box, the first request that showed a worker's
        # skills paying it: schemathesis's response-time check). Imported here, and warmed
        # off the request path by ``warm_up`` at start.
        from scipy.special import betaincinv

        return float(betaincinv(self.right, self.wrong, BAN_CREDIBILITY))


def warm_up() -> None:
    """Import what ``Skill.upper`` needs, in a thread at start, so no request waits for it."""
    from scipy.special import betaincinv

    del betaincinv


def estimate(row: WorkerSkill | None) -> Skill:
    return estimate_from(row.graded if row else 0, row.agreement_sum if row else 0.0)


def estimate_from(graded: int, right: float) -> Skill:
    """The posterior after ``graded`` answers whose agreements sum to ``right``."""
    a, b = PRIOR_RIGHT + right, PRIOR_WRONG + graded - right
    return Skill(accuracy=a / (a + b), graded=graded, right=a, wrong=b)


def ban_reason(skill: Skill, threshold: float) -> str | None:
    """Why the rule bans this worker, or None: too little evidence or not confidently bad."""
    if skill.graded < MIN_GRADED_FOR_BAN or skill.upper >= threshold:
        return None
    return (
        f"accuracy {skill.accuracy:.2f} over {skill.graded} graded answers is below the project's "
        f"{threshold:g} (at most {skill.upper:.2f} with {BAN_CREDIBILITY:.0%} confidence)"
    )


def describe(row: WorkerSkill) -> dict[str, object]:
    """A worker's standing on one project, as shown to the worker and to operators."""
    skill = estimate(row)
    return {
        "project_id": row.project_id,
        "accuracy": round(skill.accuracy, 4),
        "accuracy_upper": round(skill.upper, 4),
        "graded_answers": row.graded,
        "gold_answers": row.gold_graded,
        "qualified": row.qualified_at is not None,
        "qualification_retry_at": row.qualification_retry_at,
        "banned": row.banned_at is not None,
        "ban_reason": row.ban_reason,
    }


# --- classification: a confusion row per true label (issue 13) ------------------------------
# A one-coin accuracy cannot see a constant answerer (right whenever the truth is its label) nor
# one that picks between two labels: their rows of a confusion matrix are all alike. Each worker
# keeps counts[true, answered] of two kinds: ``gold`` adds 1 in the gold label's row; ``crowd``
# adds, for each answer of a completed task, the *other* answers' posterior over its truth (its
# leave-one-out consensus) to the column of the label it gave. The Dirichlet posterior over
# their sum is the worker's confusion matrix at submit, and the ban compares its balanced
# accuracy (per true label, then averaged) with the project's threshold.
#
# Agreement can be faked by workers who copy each other; gold cannot. So the crowd counts are
# believed only while gold does not contradict them: once a worker has gold, the upper credible
# bound of its balanced accuracy *on gold alone* is kept (``gold_upper``, recomputed when gold
# comes in), and a crowd record better than that bound is set aside (gold counts only).

CONFUSION_PRIOR_MASS = PRIOR_RIGHT + PRIOR_WRONG
"""Pseudo-answers of the Dirichlet prior over the whole matrix (the Beta prior's five), spread
evenly over the rows, each row right with the prior's 70%."""
MIN_GOLD_FOR_CHECK = 3
"""Gold answers before gold may overrule the crowd record (the qualification's three)."""
_BAN_SAMPLES = 400


def confusion_prior(k: int) -> np.ndarray:
    per_row = CONFUSION_PRIOR_MASS / k
    right = PRIOR_RIGHT / (PRIOR_RIGHT + PRIOR_WRONG)
    off = per_row * (1 - right) / max(k - 1, 1)
    return np.full((k, k), off) + np.eye(k) * (per_row * right - off)


def _counts(stored: Sequence[float] | None, k: int) -> np.ndarray:
    if stored is None or len(stored) != k * k:
        return np.zeros((k, k))
    return np.asarray(stored, dtype=float).reshape(k, k)


def confusion_mean(counts: np.ndarray) -> np.ndarray:
    """The posterior mean confusion matrix (rows: true label, columns: answered label)."""
    alpha = confusion_prior(counts.shape[0]) + counts
    return np.asarray(alpha / alpha.sum(axis=1, keepdims=True))


def balanced_accuracy(m: np.ndarray) -> np.ndarray:
    """The mean of the diagonal of ``m[..., true, answered]``: the accuracy over a truth spread
    evenly over the labels. A worker whose answer does not depend on the truth (a constant, two
    labels at random, any label at random) scores 1/k whatever the labels' frequencies; a
    one-coin worker right with p scores p, so a threshold on accuracy reads the same for both."""
    return np.asarray(np.diagonal(m, axis1=-2, axis2=-1).mean(axis=-1))


def upper_bound(counts: np.ndarray) -> float:
    """The balanced accuracy's upper credible bound (``BAN_CREDIBILITY``) under the Dirichlet
    posterior of ``counts``, from draws seeded by the counts (the same counts, the same bound)."""
    k = counts.shape[0]
    alpha = confusion_prior(k) + counts
    seed = int.from_bytes(hashlib.blake2b(alpha.tobytes(), digest_size=8).digest(), "big")
    draws = np.random.default_rng(seed).gamma(alpha, size=(_BAN_SAMPLES, k, k))
    draws /= draws.sum(axis=-1, keepdims=True)
    return float(np.quantile(balanced_accuracy(draws), BAN_CREDIBILITY))


@dataclass(frozen=True)
class ConfusionSkill:
    gold: np.ndarray
    crowd: np.ndarray
    gold_upper: float | None = None

    @cached_property
    def crowd_trusted(self) -> bool:
        """Whether the crowd record stands: no gold bound yet, or not better than it."""
        if self.gold_upper is None:
            return True
        return bool(balanced_accuracy(confusion_mean(self.crowd)) <= self.gold_upper)

    @cached_property
    def counts(self) -> np.ndarray:
        return self.gold + self.crowd if self.crowd_trusted else self.gold

    @property
    def evidence(self) -> float:
        return float(self.counts.sum())

    @cached_property
    def matrix(self) -> np.ndarray:
        return confusion_mean(self.counts)

    @cached_property
    def accuracy(self) -> float:
        """Balanced accuracy of the posterior mean matrix (a constant answerer: 1/k)."""
        return float(balanced_accuracy(self.matrix))

    @cached_property
    def upper(self) -> float:
        return upper_bound(self.counts)

    @cached_property
    def right(self) -> float:
        """The counts' diagonal: graded answers that gave the (believed) true label."""
        return float(np.trace(self.counts))

    @cached_property
    def plain(self) -> Skill:
        """One coin on the same counts: the Beta posterior of how often the worker gives the
        true label, over answers each graded against gold or against the *other* answers (no
        vote vouches for itself, unlike the agreement of ``estimate``)."""
        a, b = PRIOR_RIGHT + self.right, PRIOR_WRONG + self.evidence - self.right
        return Skill(accuracy=a / (a + b), graded=round(self.evidence), right=a, wrong=b)


def confusion_skill(row: WorkerSkill | None, k: int) -> ConfusionSkill:
    stored = (row.confusion if row else None) or {}
    upper = stored.get("gold_upper")
    return ConfusionSkill(
        _counts(stored.get("gold"), k),
        _counts(stored.get("crowd"), k),
        float(upper) if isinstance(upper, int | float) else None,
    )


def confusion_ban_reason(skill: ConfusionSkill, threshold: float) -> str | None:
    """The ban rule on confusion rows: enough evidence, and their balanced accuracy or the
    accuracy of the rows pooled (one coin, ``plain``) credibly below the project's threshold.
    Both read the same counts: pooling narrows the bound (a random answerer's ~28 answers in a
    crowd-A run leave ~9 per row, and the balanced accuracy's spread is its noisiest row's),
    the balanced accuracy sees what pooling hides (a constant answerer whose label is the
    common one)."""
    if skill.evidence < MIN_GRADED_FOR_BAN:
        return None
    if skill.upper < threshold:
        return (
            f"accuracy {skill.accuracy:.2f} per label (the mean over the labels of how often the "
            f"true label is given) over {skill.evidence:.0f} graded answers is below the project's "
            f"{threshold:g} (at most {skill.upper:.2f} with {BAN_CREDIBILITY:.0%} confidence)"
        )
    if skill.plain.upper < threshold:
        return (
            f"accuracy {skill.plain.accuracy:.2f} over {skill.evidence:.0f} graded answers (each "
            f"against the known answer or the other workers' answers) is below the project's "
            f"{threshold:g} (at most {skill.plain.upper:.2f} with {BAN_CREDIBILITY:.0%} confidence)"
        )
    return None


def add_confusion(
    row: WorkerSkill, k: int, truth: np.ndarray, answered: int, *, gold: bool = False
) -> None:
    """Count one graded answer: ``truth`` is the belief over its true label (one-hot for gold)."""
    skill = confusion_skill(row, k)
    kind = "gold" if gold else "crowd"
    counts = (skill.gold if gold else skill.crowd).copy()
    counts[:, answered] += truth
    stored = {
        "gold": [round(float(c), 6) for c in skill.gold.ravel()],
        "crowd": [round(float(c), 6) for c in skill.crowd.ravel()],
        "gold_upper": skill.gold_upper,
    }
    stored[kind] = [round(float(c), 6) for c in counts.ravel()]
    if gold and counts.sum() >= MIN_GOLD_FOR_CHECK:
        stored["gold_upper"] = round(upper_bound(counts), 6)
    row.confusion = stored
