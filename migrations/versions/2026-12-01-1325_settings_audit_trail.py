"""Settings audit trail

Why: operators change the fee, the minimum payout, the payout hold and the quality thresholds
from the browser; every change is recorded (who, when, old and new value) in the transaction
that makes it, and listed by ``GET /v1/admin/settings/history``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 13:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settings_changes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("setting", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=False),
        sa.Column("new_value", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["accounts.id"], name=op.f("settings_changes_actor_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("settings_changes_pkey")),
    )
    op.create_index(
        "ix_settings_changes_changed_at_id", "settings_changes", ["changed_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_settings_changes_changed_at_id", table_name="settings_changes")
    op.drop_table("settings_changes")
