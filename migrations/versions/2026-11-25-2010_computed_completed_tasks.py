"""Drop batches.completed_tasks: the count of a batch's completed tasks is computed

Why: every task completion ran ``UPDATE batches SET completed_tasks = completed_tasks + 1`` on its
batch, so all submits completing a task of one batch queued on that one row lock, held to
COMMIT (benchmarks/README.md, lease_throughput). The count is derived from ``tasks`` (status
``completed``, indexed by batch) where it is read: batch counts and progress, settlement, and
the gold allowance. The downgrade restores the column from that count.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("completed_tasks")


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(
            sa.Column("completed_tasks", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE batches SET completed_tasks = (SELECT count(*) FROM tasks"
        " WHERE tasks.batch_id = batches.id AND tasks.status = 'completed')"
    )
    with op.batch_alter_table("batches") as batch:
        batch.alter_column("completed_tasks", server_default=None)
