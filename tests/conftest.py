"""One suite, two databases.

``TESSERA_TEST_DATABASE_URL`` unset: SQLite. The schema is built once per run by alembic into a
template file, and each test gets a copy (cheap, and fully isolated).
Set to a PostgreSQL URL: a fresh database per xdist worker (``<db>_tessera_gw0``), built once by
alembic; tests commit for real (the concurrency tests need it) and every table is truncated after
each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core.config import Settings, normalize_database_url
from app.core.db import make_engine, make_sessionmaker
from app.core.migrate import upgrade
from app.core.models import Base
from app.main import create_app
from payments.models import metadata as payments_metadata

PG_URL = os.environ.get("TESSERA_TEST_DATABASE_URL", "").strip()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(f"tessera database: {'postgresql' if PG_URL else 'sqlite'}")


def pytest_collection_modifyitems(
    config: pytest.Config,  # noqa: ARG001
    items: list[pytest.Item],
) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TESSERA_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


class FakeClock:
    """A clock the tests move by hand; the app reads it through ``app.state.clock``."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture(scope="session")
def _database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """The URL of a migrated database (PostgreSQL) or template file (SQLite) for this worker."""
    if not PG_URL:
        template = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{template}")
        yield str(template)
        return
    url = make_url(normalize_database_url(PG_URL))
    # The pid keeps two test runs on one server (two developers, CI) out of each other's way.
    name = f"{url.database}_tessera_{worker_id}_{os.getpid()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    test_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(test_url)
    yield test_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(_database: str, tmp_path: Path) -> str:
    if not PG_URL:
        db = tmp_path / "tessera.db"
        shutil.copyfile(_database, db)
        return f"sqlite:///{db}"
    return _database


@pytest.fixture
def is_postgres() -> bool:
    return bool(PG_URL)


def _truncate_all(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    tables = ", ".join(
        f'"{t.name}"' for md in (Base.metadata, payments_metadata) for t in md.sorted_tables
    )
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    yield Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        run_reconcilers=False,
        migrate_on_start=False,
        db_pool_size=5,
    )
    if PG_URL:
        _truncate_all(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.clock = clock
    with TestClient(app) as client:
        yield client
