"""The submit function skips banned workers' answers and checks both ban rules

Why: the service (app/quality/service.py) now leaves a worker banned from a project out of
every one of its tasks' consensus (``_answers``; the ban recomputes the completed ones), and
bans on the one-coin accuracy *or* the confusion rows' balanced accuracy. ``tessera_submit``
restates both: the answers it reads skip a banned worker's, and the workers it names for
``ban_if_due`` are those either rule's point estimate puts below the threshold.

SQLite: nothing (the service's path is the only one there).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 17:40:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous_submit() -> str:
    """Revision 0023's submit function (0022's confusion rows with the webhook outbox writes)."""
    path = Path(__file__).with_name("2026-12-01-1710_webhooks.py")
    spec = importlib.util.spec_from_file_location("_webhooks_0023", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.SUBMIT)


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def submit() -> str:
    sql = _replace(
        _previous_submit(),
        """                OR x.id = p_id)
         ORDER BY""",
        """                OR x.id = p_id)
           AND (s.banned_at IS NULL OR x.id = p_id)
         ORDER BY""",
    )
    return _replace(
        sql,
        """       AND CASE WHEN g.confusion IS NULL
                THEN g.graded >= 5
                     AND (3.5 + g.agreement_sum) / ((3.5 + g.agreement_sum) + ((1.5 + g.graded) - g.agreement_sum))
                         < t.ban_below_accuracy
                ELSE (SELECT sum(e) FROM unnest(tessera_confusion_effective(g.confusion, v_k)) e) >= 5
                     AND tessera_confusion_balanced(tessera_confusion_effective(g.confusion, v_k), v_k)
                         < t.ban_below_accuracy
           END;""",
        """       AND ((g.graded >= 5
                 AND (3.5 + g.agreement_sum) / ((3.5 + g.agreement_sum) + ((1.5 + g.graded) - g.agreement_sum))
                     < t.ban_below_accuracy)
            OR (g.confusion IS NOT NULL
                AND (SELECT sum(e) FROM unnest(tessera_confusion_effective(g.confusion, v_k)) e) >= 5
                AND tessera_confusion_balanced(tessera_confusion_effective(g.confusion, v_k), v_k)
                    < t.ban_below_accuracy));""",
    )


SUBMIT = submit()


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_submit())
