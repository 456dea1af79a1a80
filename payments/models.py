"""Payments' tables, on their own ``MetaData`` (migrations/env.py passes it next to the app's).

Payments refers to app objects only by opaque ID strings (``acc_…``, ``bat_…``, ``asg_…``), never
by foreign keys across packages. Every amount is a signed ``BigInteger`` in micro-dollars.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# A copy of app.core.models.NAMING_CONVENTION (payments imports nothing from app): the same
# PostgreSQL-style constraint names on both backends, so migrations can refer to them.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ix": "ix_%(column_0_N_label)s",
    "ck": "%(table_name)s_%(constraint_name)s_check",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants; refuses naive values, re-attaches UTC on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class LedgerAccount(Base):
    """A balance: one per (kind, owner, shard), e.g. (``worker_available``, ``acc_…``, 0).

    Most kinds have the one shard 0. The platform's fee income and the world account, which
    every reward, deposit and settled payout touches, are split into ``accounts.SHARDS`` rows
    (one chosen per posting by a hash of its transaction id) so postings do not queue on one
    row lock; their balance is the sum of their shards.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner", "shard"),
        # The sign rule again in the database: a bug in post() still cannot overdraw.
        CheckConstraint("allow_negative OR balance >= 0", name="sign_rule"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    """An app ID (``acc_…``, ``bat_…`` for escrow) or ``platform`` / ``world``."""
    shard: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """0 for unsharded kinds; 0 ≤ shard < accounts.SHARDS for platform_fees and world."""
    allow_negative: Mapped[bool]
    """Only the world account (money outside Tessera) may go negative."""
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    """Cached sum of this account's entries, in micro-dollars; written only by ledger.post under a row lock."""
    created_at: Mapped[datetime]


class LedgerTransaction(Base):
    """One balanced movement. ``UNIQUE(kind, reference)`` is what makes "never twice" true."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("kind", "reference"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128))
    """The business fact it records: ``asg_…`` for a reward, ``bat_…`` for escrow and refund, ``pay_…``."""
    created_at: Mapped[datetime]


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index(
            "ix_ledger_entries_account_id_id", "account_id", "id"
        ),  # an owner's entries, newest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    """Signed, in micro-dollars: positive adds to the account's balance. A transaction's entries sum to zero."""


class LedgerHold(Base):
    """Earnings credited to a worker's pending balance, released to available at ``release_at``."""

    __tablename__ = "ledger_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    worker_ref: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    """In micro-dollars."""
    release_at: Mapped[datetime]
    released_at: Mapped[datetime | None]

    # Only the holds still to release: the release reconciler's claim (oldest due first) reads
    # this index without walking every hold ever released, which grows with the marketplace.
    __table_args__ = (
        Index(
            "ix_ledger_holds_due",
            "release_at",
            postgresql_where=text("released_at IS NULL"),
            sqlite_where=text("released_at IS NULL"),
        ),
    )


class Escrow(Base):
    """A launched batch's terms, fixed at launch: later changes to the fee do not touch it."""

    __tablename__ = "escrows"

    batch_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester_ref: Mapped[str] = mapped_column(String(64))
    reward: Mapped[int] = mapped_column(BigInteger)
    """Paid per accepted answer, in micro-dollars."""
    fee_ppm: Mapped[int]
    """Platform fee in parts per million of each reward or bonus, fixed at launch."""
    max_answers: Mapped[int]
    """Tasks × max overlap: the most answers the escrow can pay."""
    amount: Mapped[int] = mapped_column(BigInteger)
    """Escrowed at launch, in micro-dollars: max_answers × (reward + fee)."""
    created_at: Mapped[datetime]


class Payout(Base):
    """A worker's withdrawal. Money sits in ``worker_in_flight`` from request until settled."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("worker_ref", "idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "ix_payouts_status_next_attempt_at", "status", "next_attempt_at"
        ),  # the settler's due query
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    worker_ref: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    """In micro-dollars."""
    status: Mapped[str] = mapped_column(String(16))
    """``requested`` (committed, provider not called) → ``pending`` (called, outcome unknown) → ``paid`` | ``failed``."""
    provider: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    """The caller's key: one key, one payout."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    """When a settler may next claim it; a claim pushes it forward, so it doubles as a lease."""
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    provider_response: Mapped[dict[str, Any] | None]
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class PlatformSettings(Base):
    """The operator's knobs: a single row (id 1); absent means the defaults in payments.settings."""

    __tablename__ = "platform_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fee_ppm: Mapped[int]
    """Platform fee in parts per million (API: a decimal fraction string)."""
    min_payout: Mapped[int] = mapped_column(BigInteger)
    """In micro-dollars."""
    payout_hold_seconds: Mapped[int]
    updated_at: Mapped[datetime]
