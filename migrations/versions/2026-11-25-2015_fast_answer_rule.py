"""The fast-answer rule

Why: answers submitted faster than a project's floor (seconds from lease to submit), repeatedly,
ban the worker from the project (Toloka's "fast answers" rule). The floor defaults to 0 (off) on
existing projects; existing workers start with no fast answers counted.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 19:42:40.626428
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("min_answer_s", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("fast_answers_to_ban", sa.Integer(), nullable=False, server_default="5")
        )

    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fast_answers", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.drop_column("fast_answers")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("fast_answers_to_ban")
        batch_op.drop_column("min_answer_s")
