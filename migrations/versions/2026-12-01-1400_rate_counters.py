"""Rate counters

Why: sign-up per address, leases per account, answers per worker and sign-in failures are all
limited by one rate limiter whose counters live in the database (every replica counts alike):
one row per limit, key and fixed window, bumped by an atomic upsert. The sign-in failure log it
replaces is dropped: at worst a throttled address may try again a little early.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(length=320), nullable=False),
        sa.Column("window", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window", name=op.f("rate_counters_pkey")),
    )
    op.create_index("ix_rate_counters_ends_at", "rate_counters", ["ends_at"])
    op.drop_index("ix_sign_in_failures_address_failed_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_email_failed_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")


def downgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("sign_in_failures_pkey")),
    )
    op.create_index(
        "ix_sign_in_failures_email_failed_at", "sign_in_failures", ["email", "failed_at"]
    )
    op.create_index(
        "ix_sign_in_failures_address_failed_at", "sign_in_failures", ["address", "failed_at"]
    )
    op.drop_index("ix_rate_counters_ends_at", table_name="rate_counters")
    op.drop_table("rate_counters")
