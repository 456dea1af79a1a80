"""Holds still to release get their own partial index

Why: the release reconciler claims due holds with ``released_at IS NULL AND release_at <= now
ORDER BY release_at``; on an index of every hold's ``release_at`` it walked all the holds
already released before reaching a due one (1,770 rows filtered out, 12.8 ms per claim three
minutes into the soak, growing with history), which kept its transaction — and the payouts
waiting on the same balance rows — longer as the marketplace aged. The partial index holds
only the unreleased ones.

Existing rows: nothing changes; the index is rebuilt from them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 19:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ledger_holds_release_at", table_name="ledger_holds")
    op.create_index(
        "ix_ledger_holds_due",
        "ledger_holds",
        ["release_at"],
        postgresql_where=sa.text("released_at IS NULL"),
        sqlite_where=sa.text("released_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_holds_due", table_name="ledger_holds")
    op.create_index("ix_ledger_holds_release_at", "ledger_holds", ["release_at"])
