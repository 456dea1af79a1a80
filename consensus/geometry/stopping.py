"""Dynamic overlap: stop buying answers once the consensus is confident enough."""

from __future__ import annotations


def should_stop(
    confidence: float,
    n_answers: int,
    *,
    min_answers: int = 2,
    max_answers: int = 5,
    target: float = 0.9,
) -> bool:
    """True when the task needs no more answers.

    Never before ``min_answers`` (a single worker cannot be checked against anyone), always at
    ``max_answers`` (the budget the requester escrowed), in between when the consensus
    ``confidence`` (``*Consensus.confidence``, computed with the current worker skills) reaches
    ``target``.

    Examples:
        >>> should_stop(0.95, 2, min_answers=2, max_answers=5, target=0.9)
        True
        >>> should_stop(0.95, 1, min_answers=2, max_answers=5, target=0.9)
        False
    """
    if n_answers >= max_answers:
        return True
    if n_answers < min_answers:
        return False
    return confidence >= target
