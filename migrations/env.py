"""Alembic environment: one set of migrations for SQLite and PostgreSQL.

The URL comes from ``config.attributes["url"]`` (set by app.core.migrate) or the settings.
SQLite gets ``render_as_batch`` (alembic's way to ALTER there) and a plain connection without
``foreign_keys=ON``: a batch table rewrite would otherwise cascade-delete child rows (Phoenix).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import app.models  # registers every table on the metadata
from app.core.config import get_settings
from app.core.models import Base
from payments.models import metadata as payments_metadata

target_metadata = [Base.metadata, payments_metadata]


def _url() -> str:
    return context.config.attributes.get("url") or get_settings().database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
