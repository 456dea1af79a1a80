"""Classification aggregation models."""

from consensus.classification.auto import Auto
from consensus.classification.dawid_skene import DawidSkene
from consensus.classification.glad import GLAD
from consensus.classification.majority_vote import MajorityVote, WeightedMajorityVote
from consensus.classification.one_coin import OneCoinDawidSkene
from consensus.classification.pooled import PooledDawidSkene

__all__ = [
    "GLAD",
    "Auto",
    "DawidSkene",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PooledDawidSkene",
    "WeightedMajorityVote",
]
