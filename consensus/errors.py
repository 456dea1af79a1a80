"""Exceptions raised by the consensus library.

::

    ConsensusError
    ├── InputError      malformed answers (bad CSV line, mismatched lengths, unknown label)
    └── NotFittedError  an estimator's result was read before ``fit`` (a ValueError and an AttributeError, like sklearn's)
"""

from __future__ import annotations

__all__ = ["ConsensusError", "InputError", "NotFittedError"]


class ConsensusError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(ConsensusError, ValueError):
    """The answers (or gold, or skills) given are malformed; the message says where."""


class NotFittedError(ConsensusError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""
