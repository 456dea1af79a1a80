"""Auto-labelling: a project may let a proven model complete tasks alone, with an audit share

Why: issue 15, item 3. With ``projects.auto_label`` on, a task whose consensus from its model
predictions alone reaches the project's target completes with no human answer
(``tasks.labeled_by = 'model'``), except a random ``projects.auto_label_audit`` share of them
that still goes to people; ``tasks.audit`` records that draw, made once per task (null: not
drawn), so that later predictions cannot redraw an audited task into auto-labelling.

Existing rows: every project starts with auto-labelling off (audit share 0.1); no task is
auto-labelled or drawn.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_label", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("auto_label_audit", sa.Float(), nullable=False, server_default="0.1")
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labeled_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("audit", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("audit")
        batch_op.drop_column("labeled_by")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("auto_label_audit")
        batch_op.drop_column("auto_label")
