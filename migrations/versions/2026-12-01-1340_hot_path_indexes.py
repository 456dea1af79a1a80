"""Assignments keep only the indexes a query uses; fitted models carry a version

Why: ``ix_assignments_task_id`` duplicates the leading column of the ``(task_id, worker_id)``
unique index (every lookup by task uses that one), so it only costs a write on every lease and
makes fewer updates HOT. ``assignments`` gets fillfactor 70 (from 80) so that the updates which
touch no indexed column (a consensus's verdict on the other answers of a task: agreement,
proposed verdict, reason) find room on their page and stay HOT. ``project_models.version`` is
incremented by every refit: the submit path caches a parsed model per (project, version), and a
value the database returns is the only key two processes agree on.

PostgreSQL only for the storage parameter; the index and the column are plain DDL (SQLite too).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_task_id")
    with op.batch_alter_table("project_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE assignments SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE assignments SET (fillfactor = 80)")
    with op.batch_alter_table("project_models", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_task_id", ["task_id"], unique=False)
