"""ledger

Why: money (issue 4). A double-entry ledger (accounts with cached balances, transactions,
signed entries), the terms each batch launched with, earnings held until the payout hold ends,
worker payouts, and the operator's fee / minimum payout / hold knobs. Payments has its own
MetaData and refers to app rows by ID strings, so there is no foreign key into app tables.

The safety rules live in the schema, not only in Python: UNIQUE(kind, reference) on
ledger_transactions makes "paid once" a constraint; CHECK(allow_negative OR balance >= 0)
refuses an overdraft even from a buggy caller; UNIQUE(worker_ref, idempotency_key) on payouts
maps one key to one payout. All new tables: no existing rows are touched. platform_settings
starts empty; payments.settings returns its defaults until an operator saves a change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite auto-increments INTEGER only
TS = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "allow_negative OR balance >= 0", name=op.f("ledger_accounts_sign_rule_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("ledger_accounts_pkey")),
        sa.UniqueConstraint("kind", "owner", name=op.f("ledger_accounts_kind_owner_key")),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("ledger_transactions_pkey")),
        sa.UniqueConstraint(
            "kind", "reference", name=op.f("ledger_transactions_kind_reference_key")
        ),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ledger_entries_amount_nonzero_check")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("ledger_entries_account_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("ledger_entries_transaction_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("ledger_entries_pkey")),
    )
    op.create_index("ix_ledger_entries_account_id_id", "ledger_entries", ["account_id", "id"])
    op.create_index(op.f("ix_ledger_entries_transaction_id"), "ledger_entries", ["transaction_id"])
    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("worker_ref", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("release_at", TS, nullable=False),
        sa.Column("released_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("ledger_holds_transaction_id_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("ledger_holds_pkey")),
        sa.UniqueConstraint("transaction_id", name=op.f("ledger_holds_transaction_id_key")),
    )
    op.create_index(op.f("ix_ledger_holds_release_at"), "ledger_holds", ["release_at"])
    op.create_table(
        "escrows",
        sa.Column("batch_ref", sa.String(length=64), nullable=False),
        sa.Column("requester_ref", sa.String(length=64), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("fee_ppm", sa.Integer(), nullable=False),
        sa.Column("max_answers", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("batch_ref", name=op.f("escrows_pkey")),
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("worker_ref", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("provider_response", JSON, nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("payouts_amount_positive_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("payouts_pkey")),
        sa.UniqueConstraint(
            "worker_ref", "idempotency_key", name=op.f("payouts_worker_ref_idempotency_key_key")
        ),
    )
    op.create_index("ix_payouts_status_next_attempt_at", "payouts", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_payouts_worker_ref"), "payouts", ["worker_ref"])
    op.create_table(
        "platform_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fee_ppm", sa.Integer(), nullable=False),
        sa.Column("min_payout", sa.BigInteger(), nullable=False),
        sa.Column("payout_hold_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("platform_settings_single_row_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("platform_settings_pkey")),
    )


def downgrade() -> None:
    op.drop_table("platform_settings")
    op.drop_index("ix_payouts_status_next_attempt_at", table_name="payouts")
    op.drop_index(op.f("ix_payouts_worker_ref"), table_name="payouts")
    op.drop_table("payouts")
    op.drop_table("escrows")
    op.drop_index(op.f("ix_ledger_holds_release_at"), table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.drop_index(op.f("ix_ledger_entries_transaction_id"), table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_account_id_id", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_transactions")
    op.drop_table("ledger_accounts")
