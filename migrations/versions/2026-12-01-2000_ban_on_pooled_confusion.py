"""The submit function also names workers whose pooled confusion counts fall below the threshold

Why: the ban rule on a classification worker's confusion rows (app/quality/skills.py,
``confusion_ban_reason``) now bans when either their balanced accuracy or the accuracy of the
rows pooled (one coin on the same counts: the diagonal over the total, with the Beta prior of
3.5 right in 5) is credibly below the project's threshold. The pooled bound is the narrower of
the two for a random answerer (its ~28 answers in a crowd-A run leave ~9 per row). The function
only names the workers ``service.ban_if_due`` must look at, by the rules' point estimates (the
credible bound, above the estimate, decides there): it now names those the pooled estimate puts
below the threshold too. Nothing else changes (0025's function otherwise).

SQLite: nothing (the service's path is the only one there).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous_submit() -> str:
    """Revision 0025's submit function (the latest: 0026 and 0027 changed other functions)."""
    path = Path(__file__).with_name("2026-12-01-1740_submit_skips_banned.py")
    spec = importlib.util.spec_from_file_location("_submit_skips_banned_0025", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.SUBMIT)


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# The effective counts' diagonal (1-based, flattened k x k: cells 1, k + 2, 2k + 3, ...) and total.
POOLED = """
            OR (g.confusion IS NOT NULL
                AND (SELECT sum(e) FROM unnest(tessera_confusion_effective(g.confusion, v_k)) e) >= 5
                AND (SELECT (3.5 + sum(e) FILTER (WHERE (o - 1) % (v_k + 1) = 0))
                            / (5.0 + sum(e))
                       FROM unnest(tessera_confusion_effective(g.confusion, v_k))
                            WITH ORDINALITY AS u(e, o))
                    < t.ban_below_accuracy));"""


def submit() -> str:
    return _replace(
        _previous_submit(),
        """                AND tessera_confusion_balanced(tessera_confusion_effective(g.confusion, v_k), v_k)
                    < t.ban_below_accuracy));""",
        """                AND tessera_confusion_balanced(tessera_confusion_effective(g.confusion, v_k), v_k)
                    < t.ban_below_accuracy)"""
        + POOLED,
    )


SUBMIT = submit()


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_submit())
