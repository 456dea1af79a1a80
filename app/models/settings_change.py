from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class SettingsChange(Base):
    """One operator setting changed: who, when, from what to what (the audit trail).

    Written in the transaction that changes the setting, so a change without its record (or a
    record of a change that did not happen) cannot exist. Values are kept as the API shows
    them (``"0.1"`` for a fee, ``"1.00"`` for money, ``"86400"`` for seconds).
    """

    __tablename__ = "settings_changes"
    __table_args__ = (Index("ix_settings_changes_changed_at_id", "changed_at", "id"),)

    id: Mapped[str] = id_column()
    actor_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    setting: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]
