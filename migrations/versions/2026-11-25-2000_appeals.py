"""Appeals of rejected answers

Why: a worker may appeal a rejection once, with a message, within the project's review window;
the requester grants or denies it, or the deadline grants it. NULL on existing rows: answers
rejected before this revision cannot be appealed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 18:49:32.303997
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appeal_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("appeal_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("appealed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("appeal_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("appeal_outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("appeal_outcome")
        batch_op.drop_column("appeal_due_at")
        batch_op.drop_column("appealed_at")
        batch_op.drop_column("appeal_message")
        batch_op.drop_column("appeal_until")
