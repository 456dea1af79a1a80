"""Operator quality settings

Why: operators tune the benefit-of-the-doubt threshold and the qualification retry delay
through /v1/admin/settings. One row, created on first change; defaults apply until then.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 18:54:42.706936
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("benefit_of_doubt_below", sa.Float(), nullable=False),
        sa.Column("qualification_retry_s", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("quality_settings_pkey")),
    )


def downgrade() -> None:
    op.drop_table("quality_settings")
