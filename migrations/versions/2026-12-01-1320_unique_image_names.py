"""Image names unique within each batch

Why: every export and the JSON results now use the task's ``image_name`` as the image's file
name (``images/<name>``, ``labels/<stem>.txt``), so within a batch no two names may share a stem
(ignoring case), and each must be a clean relative path with an image extension. New uploads get
that from ``app.images.names`` at upload; this gives existing batches the same, by the same
rule, in task order (task ids sort by creation): the first ``cat.jpg`` of a batch keeps its name,
the next becomes ``cat_2.jpg``. Gold tasks (no batch) get only the cleaning and the extension.

No column changes. The downgrade leaves the names as they are (the old ones are not kept; they
were base names that collided, which is what this fixes).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.images.names import BatchNames, clean_name, with_extension

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT t.id, t.batch_id, t.image_name, i.media_type FROM tasks t "
            "JOIN images i ON i.id = t.image_id ORDER BY t.batch_id, t.id"
        )
    ).all()
    names: BatchNames | None = None
    batch: str | None = None
    changes = []
    for task_id, batch_id, old, media_type in rows:
        if batch_id != batch or batch_id is None:
            names, batch = BatchNames(), batch_id
        assert names is not None
        new = names.allocate(with_extension(clean_name(old) or "image", media_type))
        if new != old:
            changes.append({"id": task_id, "name": new})
    for change in changes:
        bind.execute(sa.text("UPDATE tasks SET image_name = :name WHERE id = :id"), change)


def downgrade() -> None:
    pass
