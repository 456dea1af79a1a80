"""Tessera consensus: aggregate crowd answers into labels with calibrated confidence.

A pure library (numpy, scipy, scikit-learn). Classification estimators follow scikit-learn's
conventions (``fit`` returns ``self``; learned attributes end in ``_``).

What the service calls:

- batch re-estimation: ``Auto().fit(Answers.from_records(tasks, workers, labels), gold)``, then
  ``labels_``, ``confidence_``, ``probas_`` and ``skills_`` (a :class:`WorkerSkills`);
- storage: ``skills_.to_dict()`` (plain JSON) and ``WorkerSkills.from_dict(d)``;
- at every submit: ``posterior_for_task(labels, workers, skills)`` (tens of microseconds) and
  ``consensus.dynamic_overlap.StoppingRule(target, min_overlap, max_overlap).decide(labels,
  workers, skills)``;
- multi-label: ``consensus.multilabel.MultiLabelAggregator``; geometry: ``consensus.geometry``.
"""

from consensus._data import Answers, read_csv, read_gold_csv
from consensus.classification import (
    GLAD,
    Auto,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    PooledDawidSkene,
    WeightedMajorityVote,
)
from consensus.errors import ConsensusError, InputError
from consensus.skills import WorkerSkills, posterior_for_task

__all__ = [
    "GLAD",
    "Answers",
    "Auto",
    "ConsensusError",
    "DawidSkene",
    "InputError",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PooledDawidSkene",
    "WeightedMajorityVote",
    "WorkerSkills",
    "posterior_for_task",
    "read_csv",
    "read_gold_csv",
]
