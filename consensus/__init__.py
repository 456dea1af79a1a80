"""Tessera consensus: aggregate crowd answers into labels with calibrated confidence.

A pure library (numpy; scipy where a method needs it). Classification estimators follow scikit-learn's
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

from typing import TYPE_CHECKING, Any

from consensus.errors import ConsensusError, InputError

if TYPE_CHECKING:
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
    from consensus.skills import WorkerSkills, posterior_for_task

# Names load on first use (PEP 562), so ``import consensus`` costs nothing and a caller pays
# only for the modules its method needs (the CLI's DS path never loads scipy.optimize).
_LAZY = {
    "Answers": "consensus._data",
    "read_csv": "consensus._data",
    "read_gold_csv": "consensus._data",
    "GLAD": "consensus.classification",
    "Auto": "consensus.classification",
    "DawidSkene": "consensus.classification",
    "MajorityVote": "consensus.classification",
    "OneCoinDawidSkene": "consensus.classification",
    "PooledDawidSkene": "consensus.classification",
    "WeightedMajorityVote": "consensus.classification",
    "WorkerSkills": "consensus.skills",
    "posterior_for_task": "consensus.skills",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'consensus' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
