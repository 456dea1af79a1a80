"""Engines, sessions and the one-transaction-per-use-case helper.

SQLite (embedded mode) follows Phoenix: WAL so readers never block the writer, a busy timeout so
a second process waits instead of failing, foreign keys on, and a pool of exactly one connection
checked out exclusively, so every transaction in the process is serialised through one writer.
We take the write lock at BEGIN (``BEGIN IMMEDIATE``): a transaction that read first and wrote
later could otherwise fail with SQLITE_BUSY when another process (``serve --workers 2``) holds
the lock, and busy_timeout does not cover that upgrade.

PostgreSQL uses psycopg 3, synchronously: see benchmarks/README.md for the measurement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def pg_connect_args(*, connect_timeout_s: int = 3, statement_timeout_ms: int = 0) -> dict[str, Any]:
    """libpq options for every PostgreSQL connection the service opens (the engine's and the hot
    path's own): bounded connect, TCP keepalives, and the statement timeout when one is set."""
    args: dict[str, Any] = {
        "connect_timeout": max(2, connect_timeout_s),  # libpq's minimum
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
    }
    if statement_timeout_ms:
        args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return args


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    busy_timeout_ms: int = 30_000,
    statement_timeout_ms: int = 0,
    pool_timeout_s: float = 30.0,
    connect_timeout_s: int = 3,
) -> Engine:
    """An engine for ``url``. On PostgreSQL, bounded waits so that an unreachable database is a
    quick error (503 for a request) and never a hang: ``connect_timeout_s`` to open a
    connection, ``pool_timeout_s`` to get one from the pool, ``statement_timeout_ms`` per
    statement (0: none), TCP keepalives to notice a server that vanished mid-statement."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_ms)
    connect_args = pg_connect_args(
        connect_timeout_s=connect_timeout_s, statement_timeout_ms=statement_timeout_ms
    )
    # A fixed pool (no overflow): connections opened and closed under load cost more than they
    # relieve (benchmarks/README.md). pre_ping catches connections the server dropped (a
    # restart, pg_terminate_backend); a connection that dies mid-statement is an
    # OperationalError, on which SQLAlchemy also drops every older pooled connection, so the
    # pool is fresh for the next request once the server is back.
    return create_engine(
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=pool_timeout_s,
        connect_args=connect_args,
    )


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder: make the data directory on first use."""
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    ensure_sqlite_dir(url)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Leave transaction control to SQLAlchemy (pysqlite's own BEGIN handling is broken
        # for SAVEPOINT and would defer the BEGIN we want IMMEDIATE).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL + NORMAL is durable across application crashes; only an OS crash can lose the
        # last transactions, which embedded mode accepts for a 2-3x faster commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """The unit of work of one use case: commit on a clean exit, roll back on any error.

    Committing here, inside the service, rather than in a request teardown means a commit that
    fails (a unique-key race) surfaces as the service's own error, before a response is sent.
    Nested calls join the outermost one, so a caller (the idempotency wrapper) can make a use
    case and the record of its response one transaction.
    """
    depth = session.info.get("tx_depth", 0)
    session.info["tx_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["tx_depth"] = depth


@contextmanager
def read_only(session: Session) -> Iterator[Session]:
    """The unit of work of a use case that only reads: end its transaction when it is done.

    Why end it rather than leave it to the request's teardown: on SQLite every transaction begins
    ``IMMEDIATE`` and so holds the process's one writer connection until it ends, and on
    PostgreSQL a transaction left open while the response is encoded and sent is an idle
    transaction holding a pooled connection. Joins an enclosing ``transaction`` unchanged.
    """
    if session.info.get("tx_depth", 0):
        yield session
        return
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    if session.in_transaction():
        session.commit()


def insert_ignore(
    session: Session, model: Any, values: dict[str, Any], *, conflict: list[str]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING on both backends (a race-free get-or-create)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict))
