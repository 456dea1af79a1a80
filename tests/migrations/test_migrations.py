"""Migrations are the only way a schema is made: they must match the models and go both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from app.core.migrate import downgrade, upgrade
from app.models import Base  # importing app.models registers every table
from payments.models import metadata as payments_metadata

target_metadata = [Base.metadata, payments_metadata]


def _diff(url: str) -> list[object]:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = list(compare_metadata(context, target_metadata))  # type: ignore[arg-type]
    engine.dispose()
    return diffs


def test_head_matches_models_and_round_trips(database_url: str) -> None:
    # database_url is already at head (conftest); prove it, then go down and back up.
    assert _diff(database_url) == []
    downgrade(database_url, "base")
    engine = create_engine(database_url, poolclass=pool.NullPool)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(database_url)
    assert _diff(database_url) == []
