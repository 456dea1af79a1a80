"""Dynamic overlap: stop buying answers for a task once its consensus is confident enough.

The rule is deliberately simple because the posterior it reads is calibrated (see
:mod:`consensus.calibration`): a task at confidence 0.95 is right about 95% of the time, so
"stop at 0.95" means what it says. Easy tasks (two good workers agree) stop at the minimum
overlap; contested tasks get more answers, up to the maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from consensus.skills import WorkerSkills

__all__ = ["Decision", "StoppingRule"]


@dataclass(frozen=True)
class Decision:
    """Outcome of the rule for one task."""

    complete: bool
    label: str | None
    confidence: float
    reason: str  # "confident", "max_overlap", "need_min_overlap" or "not_confident"


@dataclass(frozen=True)
class StoppingRule:
    """Is a task done, or is one more answer worth buying?

    Args:
        target: Stop once the posterior's maximum reaches this.
        min_overlap: Never stop before this many answers (guards against one lucky answer
            from a worker whose skill is overestimated).
        max_overlap: Always stop at this many answers (the budget cap).

    Examples:
        >>> StoppingRule(target=0.9, min_overlap=2, max_overlap=5).is_complete(0.95, 2)
        True
        >>> StoppingRule(target=0.9, min_overlap=2, max_overlap=5).is_complete(0.95, 1)
        False
    """

    target: float = 0.9
    min_overlap: int = 2
    max_overlap: int = 5

    def is_complete(self, confidence: float, n_answers: int) -> bool:
        """The rule on a confidence already computed."""
        if n_answers >= self.max_overlap:
            return True
        return n_answers >= self.min_overlap and confidence >= self.target

    def decide(
        self, labels: Sequence[str], workers: Sequence[str], skills: WorkerSkills
    ) -> Decision:
        """Apply the rule to a task's answers so far, using the online posterior."""
        n = len(labels)
        if n == 0:
            return Decision(self.max_overlap <= 0, None, 0.0, "need_min_overlap")
        p = skills.posterior(labels, workers)
        best = int(np.argmax(p))
        conf = float(p[best])
        label = skills.label_names[best]
        if n >= self.max_overlap:
            return Decision(True, label, conf, "max_overlap")
        if n < self.min_overlap:
            return Decision(False, label, conf, "need_min_overlap")
        if conf >= self.target:
            return Decision(True, label, conf, "confident")
        return Decision(False, label, conf, "not_confident")
