from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class RateCounter(Base):
    """Hits on one rate limit by one caller in one fixed window (``app.core.ratelimit``).

    In the database, not in process memory, so every ``serve`` replica counts the same hits,
    and counted by an atomic upsert, so concurrent requests cannot both slip under a limit."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_ends_at", "ends_at"),)

    bucket: Mapped[str] = mapped_column(String(320), primary_key=True)
    """``<limit name>:<key>`` (an account id, an address, an email)."""
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    """Which window: Unix seconds at its start divided by the limit's window length."""
    hits: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[int] = mapped_column(BigInteger)
    """Unix seconds when the window ends; the pruning reconciler deletes rows past it."""
