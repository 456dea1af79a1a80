"""initial schema

Why: the marketplace core: accounts with hashed API keys, projects with their annotation spec,
content-addressed images, batches, tasks, the lease queue, assignments (leases and answers) and
stored idempotent responses. No rows exist before it.

The lease queue (task_queue) is updated on every lease, release and expiry. On PostgreSQL it gets
a low fillfactor, so those updates stay HOT (same page, no new index entry), and autovacuum
settings of its own, so dead rows are cleared after a few hundred updates instead of after 20% of
the table changes; this keeps the lease query's index walk short under churn.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 17:58:32.486470
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("accounts_pkey")),
        sa.UniqueConstraint("key_id", name=op.f("accounts_key_id_key")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("idempotency_keys_account_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("idempotency_keys_pkey")),
        sa.UniqueConstraint("account_id", "key", name=op.f("idempotency_keys_account_id_key_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "images",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name=op.f("images_owner_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("images_pkey")),
        sa.UniqueConstraint("owner_id", "sha256", name=op.f("images_owner_id_sha256_key")),
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_images_sha256"), ["sha256"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("annotation_type", sa.String(length=32), nullable=False),
        sa.Column("annotation", JSON, nullable=False),
        sa.Column("reward_micros", sa.BigInteger(), nullable=False),
        sa.Column("overlap_min", sa.Integer(), nullable=False),
        sa.Column("overlap_max", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("gold_rate", sa.Float(), nullable=False),
        sa.Column("qualification_gold_tasks", sa.Integer(), nullable=False),
        sa.Column("qualification_min_accuracy", sa.Float(), nullable=False),
        sa.Column("ban_below_accuracy", sa.Float(), nullable=False),
        sa.Column("assignment_duration_s", sa.Integer(), nullable=False),
        sa.Column("auto_accept_s", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["accounts.id"], name=op.f("projects_requester_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("projects_pkey")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_projects_requester_id"), ["requester_id"], unique=False
        )

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("task_count", sa.Integer(), nullable=False),
        sa.Column("completed_tasks", sa.Integer(), nullable=False),
        sa.Column("reward_micros", sa.BigInteger(), nullable=True),
        sa.Column("overlap_min", sa.Integer(), nullable=True),
        sa.Column("overlap_max", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("upload_report", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("batches_project_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["accounts.id"], name=op.f("batches_requester_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("batches_pkey")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_requester_id"), ["requester_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("image_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pre_annotation", JSON, nullable=True),
        sa.Column("answer_count", sa.Integer(), nullable=False),
        sa.Column("consensus", JSON, nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("tasks_batch_id_fkey")),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], name=op.f("tasks_image_id_fkey")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("tasks_project_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("tasks_pkey")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_project_id"), ["project_id"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reward_micros", sa.BigInteger(), nullable=False),
        sa.Column("leased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("assignments_task_id_fkey")),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["accounts.id"], name=op.f("assignments_worker_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("assignments_pkey")),
        sa.UniqueConstraint("task_id", "worker_id", name=op.f("assignments_task_id_worker_id_key")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_batch_id_id", ["batch_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "ix_assignments_status_expires_at", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignments_task_id"), ["task_id"], unique=False)
        batch_op.create_index("ix_assignments_worker_id_id", ["worker_id", "id"], unique=False)
        batch_op.create_index(
            "ix_assignments_worker_id_status", ["worker_id", "status"], unique=False
        )

    op.create_table(
        "task_queue",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("open_slots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("task_queue_task_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("task_queue_pkey")),
    )
    with op.batch_alter_table("task_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_queue_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_task_queue_project_id_task_id", ["project_id", "task_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE task_queue SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,"
            " autovacuum_vacuum_threshold = 500, autovacuum_vacuum_cost_delay = 0,"
            " autovacuum_analyze_scale_factor = 0.05)"
        )
        op.execute("ALTER TABLE assignments SET (fillfactor = 80)")


def downgrade() -> None:
    with op.batch_alter_table("task_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_task_queue_project_id_task_id")
        batch_op.drop_index(batch_op.f("ix_task_queue_batch_id"))

    op.drop_table("task_queue")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_worker_id_status")
        batch_op.drop_index("ix_assignments_worker_id_id")
        batch_op.drop_index(batch_op.f("ix_assignments_task_id"))
        batch_op.drop_index("ix_assignments_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_assignments_project_id"))
        batch_op.drop_index("ix_assignments_batch_id_id")

    op.drop_table("assignments")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_project_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_image_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_batch_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_requester_id"))
        batch_op.drop_index(batch_op.f("ix_batches_project_id"))

    op.drop_table("batches")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_requester_id"))

    op.drop_table("projects")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_images_sha256"))

    op.drop_table("images")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
    op.drop_table("accounts")
