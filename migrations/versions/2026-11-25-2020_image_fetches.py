"""URL images fetched by a reconciler

Why: images named by URL are downloaded by a reconciler instead of inside the upload request
(a batch of many URLs no longer holds a request open for minutes; a failed download is retried,
then reported). New table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 19:52:29.205973
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "image_fetches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("pre_annotation", JSON, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("image_fetches_batch_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("image_fetches_pkey")),
    )
    with op.batch_alter_table("image_fetches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_fetches_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_image_fetches_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("image_fetches", schema=None) as batch_op:
        batch_op.drop_index("ix_image_fetches_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_image_fetches_batch_id"))

    op.drop_table("image_fetches")
