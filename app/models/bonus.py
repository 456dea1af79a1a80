from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class Bonus(Base):
    """A bonus a requester sent for one answer; the money moved in the ledger transaction
    ``("bonus", id)``, and the reason is kept here for the worker to read."""

    __tablename__ = "bonuses"

    id: Mapped[str] = id_column()
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    """The bonus paid to the worker, in micro-dollars (the platform fee comes on top)."""
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
