"""Review deadline on assignments; settlement mark on batches

Why: money follows verdicts. A submitted answer waits for the requester's verdict until its
review window ends (the project's auto_accept_s), then the auto-accept reconciler accepts and
pays it. The deadline is fixed at submission so a later change of the project's window does not
move answers already waiting, and the (status, auto_accept_at) index lets the reconciler find
due answers without scanning. batches.settled_at marks a batch whose unspent escrow has gone
back to the requester, so the settlement reconciler finds the batches still to settle. Existing submitted rows get no deadline (NULL): none exist before
this revision in any deployment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:19:16.249333
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_accept_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_assignments_status_auto_accept_at", ["status", "auto_accept_at"], unique=False
        )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("settled_at")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_status_auto_accept_at")
        batch_op.drop_column("auto_accept_at")
