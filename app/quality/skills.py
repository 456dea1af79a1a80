"""Worker accuracy per project, as a Beta posterior over graded answers, and the ban rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
        from scipy.stats import beta  # here, not at the top: scipy.stats takes ~0.5 s to import

        return float(beta.ppf(BAN_CREDIBILITY, self.right, self.wrong))


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
