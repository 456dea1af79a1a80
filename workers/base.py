"""A reconciler finds work in the database state, claims it with SKIP LOCKED and does it.

Level-triggered: it never relies on having seen an event, only on what the tables say now, so
any number of them can run, and one killed at any line leaves work that the next pass finds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class Reconciler(Protocol):
    name: str
    interval_s: float

    def run_once(self, session: Session, now: datetime) -> int:
        """Do one bounded pass; return how many items it handled (0 = nothing due)."""
        ...
