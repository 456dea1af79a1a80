"""Per-project worker models from the periodic re-estimation

Why: the online consensus at submit uses a quick one-coin estimate of each worker; a periodic
re-estimation (Dawid-Skene style EM over all of a project's answers and gold) learns full
confusion matrices and calibration, stored here and used by later submits. New table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:47:38.682741
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_models",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("state", JSON, nullable=True),
        sa.Column("answers_at_fit", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("project_models_project_id_fkey")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("project_models_pkey")),
    )


def downgrade() -> None:
    op.drop_table("project_models")
