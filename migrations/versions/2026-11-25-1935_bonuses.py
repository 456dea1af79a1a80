"""Bonuses and their reasons

Why: a requester can send a bonus for an answer with a reason the worker should read. The money
moves in the ledger (transaction kind "bonus", reference = the bonus id); this table keeps the
reason and links the bonus to its answer. New table; no existing rows change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:20:44.479998
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bonuses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("bonuses_assignment_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["accounts.id"], name=op.f("bonuses_worker_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("bonuses_pkey")),
    )
    with op.batch_alter_table("bonuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bonuses_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bonuses_worker_id"), ["worker_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bonuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonuses_worker_id"))
        batch_op.drop_index(batch_op.f("ix_bonuses_assignment_id"))

    op.drop_table("bonuses")
