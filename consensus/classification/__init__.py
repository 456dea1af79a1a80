"""Classification aggregation models (loaded on first use: GLAD and Auto need scipy.optimize)."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consensus.classification.auto import Auto
    from consensus.classification.dawid_skene import DawidSkene
    from consensus.classification.glad import GLAD
    from consensus.classification.majority_vote import MajorityVote, WeightedMajorityVote
    from consensus.classification.one_coin import OneCoinDawidSkene
    from consensus.classification.pooled import PooledDawidSkene

_LAZY = {
    "Auto": "auto",
    "DawidSkene": "dawid_skene",
    "GLAD": "glad",
    "MajorityVote": "majority_vote",
    "WeightedMajorityVote": "majority_vote",
    "OneCoinDawidSkene": "one_coin",
    "PooledDawidSkene": "pooled",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'consensus.classification' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"consensus.classification.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "GLAD",
    "Auto",
    "DawidSkene",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PooledDawidSkene",
    "WeightedMajorityVote",
]
