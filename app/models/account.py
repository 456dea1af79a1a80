from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class Role(StrEnum):
    requester = "requester"
    worker = "worker"
    operator = "operator"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = id_column()
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    """Lower-cased; set for accounts that sign in from the browser."""
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2id, in the PHC string format (parameters and salt included)."""
    created_at: Mapped[datetime]
    banned_at: Mapped[datetime | None]
    """Set by an operator: the worker may not lease anything, on any project."""
    ban_reason: Mapped[str | None] = mapped_column(Text)
