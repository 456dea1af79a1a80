"""Models attached to a project, their predictions, and the delivery state of model calls

Why: model-assisted labelling (issue 15). A project may attach models (the requester's own
``http`` model server, or a ``builtin`` classifier fitted on the project's consensus); each
predicts an answer and a score per task (``predictions``, one per task and model). Calls to an
``http`` model are retried with backoff (``model_calls``). ``tasks.pre_annotation_model_id``
says that a task's pre-annotation is a model's prediction rather than the requester's own.

Existing rows: new tables start empty; the new task column is null (every existing
pre-annotation is the requester's).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotator_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("signing_secret", sa.String(length=100), nullable=True),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("state", JSON, nullable=True),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("annotator_models_project_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("annotator_models_pkey")),
    )
    op.create_index(
        op.f("ix_annotator_models_project_id"), "annotator_models", ["project_id"], unique=False
    )
    op.create_table(
        "predictions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("answer", JSON, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["annotator_models.id"], name=op.f("predictions_model_id_fkey")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("predictions_task_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("predictions_pkey")),
        sa.UniqueConstraint("task_id", "model_id", name=op.f("predictions_task_id_model_id_key")),
    )
    op.create_index("ix_predictions_model_id", "predictions", ["model_id"], unique=False)
    op.create_index("ix_predictions_project_id", "predictions", ["project_id"], unique=False)
    op.create_table(
        "model_calls",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["annotator_models.id"], name=op.f("model_calls_model_id_fkey")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("model_calls_task_id_fkey")),
        sa.PrimaryKeyConstraint("task_id", "model_id", name=op.f("model_calls_pkey")),
    )
    op.create_index(
        "ix_model_calls_status_next_attempt_at",
        "model_calls",
        ["status", "next_attempt_at"],
        unique=False,
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pre_annotation_model_id", sa.String(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("pre_annotation_model_id")
    op.drop_index("ix_model_calls_status_next_attempt_at", table_name="model_calls")
    op.drop_table("model_calls")
    op.drop_index("ix_predictions_project_id", table_name="predictions")
    op.drop_index("ix_predictions_model_id", table_name="predictions")
    op.drop_table("predictions")
    op.drop_index(op.f("ix_annotator_models_project_id"), table_name="annotator_models")
    op.drop_table("annotator_models")
