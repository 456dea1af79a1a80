"""Gold tasks, their budget per batch, and qualification per worker

Why: gold tasks (known answers mixed into the stream) measure workers, and a worker new to a
project answers only gold until it qualifies. Gold tasks are task rows with is_gold and the
known answer, held by a hidden batch of status "gold". Gold answers are paid like any answer,
from the escrow of the open batch that served them: batches.gold_left is that escrow's allowance
for them. worker_skills gains the gold evidence and the qualification outcome. Existing rows:
no task is gold, no batch has a gold allowance (the server defaults fill that in).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:41:47.692039
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gold_left", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_gold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("gold_answer", JSON, nullable=True))

    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gold_graded", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("gold_agreement_sum", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("qualified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("qualification_failed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("qualification_retry_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.drop_column("qualification_retry_at")
        batch_op.drop_column("qualification_failed_at")
        batch_op.drop_column("qualified_at")
        batch_op.drop_column("gold_agreement_sum")
        batch_op.drop_column("gold_graded")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("gold_answer")
        batch_op.drop_column("is_gold")

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("gold_left")
