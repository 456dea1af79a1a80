"""Consensus at submit: verdicts on answers and worker skills per project

Why: the quality loop. Each task keeps its consensus (already there) with per-object
confidences; each answer gets its agreement with the final consensus and the verdict the
consensus proposes (applied when the review window ends unless the requester decides first);
worker_skills keeps, per project and worker, the graded answers and their summed agreement (a
Beta posterior gives the accuracy) and a ban. New columns are NULL on existing rows, which is
right: their tasks were never judged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:26:08.946992
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_skills",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("agreement_sum", sa.Float(), nullable=False),
        sa.Column("banned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ban_reason", sa.Text(), nullable=True),
        sa.Column("banned_by", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("worker_skills_project_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["accounts.id"], name=op.f("worker_skills_worker_id_fkey")
        ),
        sa.PrimaryKeyConstraint("project_id", "worker_id", name=op.f("worker_skills_pkey")),
    )
    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_skills_worker_id"), ["worker_id"], unique=False)

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreement", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("proposed_verdict", sa.String(length=16), nullable=True))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_confidences", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("object_confidences")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("proposed_verdict")
        batch_op.drop_column("agreement")

    with op.batch_alter_table("worker_skills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_skills_worker_id"))

    op.drop_table("worker_skills")
