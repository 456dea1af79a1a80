"""Web sessions, named API keys, sign-in throttling, server secrets

Why: workers sign in from the browser (email + argon2id password, a session cookie with a CSRF
token), signed-in users keep several named API keys for scripts, failed sign-ins are counted in
the database so every replica throttles alike, and the image-URL signing key is made once and
shared through the database.

Existing rows: each account's one API key moves to ``api_keys`` under the name "default", so
every key handed out before keeps working; ``accounts.key_id``/``key_hash`` are dropped. The
downgrade moves each account's oldest live key back (accounts without one get an unusable
placeholder key).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:45:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _key_row_id() -> str:
    # app.core.ids.new_id, frozen here: a migration must not change when the app does.
    value = secrets.randbits(128)
    return "key_" + "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("api_keys_account_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("api_keys_pkey")),
        sa.UniqueConstraint("key_id", name=op.f("api_keys_key_id_key")),
    )
    op.create_index(op.f("ix_api_keys_account_id"), "api_keys", ["account_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("web_sessions_account_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("web_sessions_pkey")),
        sa.UniqueConstraint("token_hash", name=op.f("web_sessions_token_hash_key")),
    )
    op.create_index(op.f("ix_web_sessions_account_id"), "web_sessions", ["account_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("sign_in_failures_pkey")),
    )
    op.create_index(
        "ix_sign_in_failures_email_failed_at", "sign_in_failures", ["email", "failed_at"]
    )
    op.create_index(
        "ix_sign_in_failures_address_failed_at", "sign_in_failures", ["address", "failed_at"]
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("server_secrets_pkey")),
    )

    bind = op.get_bind()
    accounts = bind.execute(sa.text("SELECT id, key_id, key_hash, created_at FROM accounts")).all()
    keys = sa.table(
        "api_keys",
        sa.column("id"),
        sa.column("account_id"),
        sa.column("name"),
        sa.column("key_id"),
        sa.column("key_hash"),
        sa.column("created_at"),
    )
    if accounts:
        op.bulk_insert(
            keys,
            [
                {
                    "id": _key_row_id(),
                    "account_id": acc_id,
                    "name": "default",
                    "key_id": key_id,
                    "key_hash": key_hash,
                    "created_at": created_at,
                }
                for acc_id, key_id, key_hash, created_at in accounts
            ],
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint("accounts_key_id_key", type_="unique")
        batch_op.drop_column("key_id")
        batch_op.drop_column("key_hash")
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("accounts_email_key"), ["email"])


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("accounts_email_key"), type_="unique")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("email")
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    oldest = bind.execute(
        sa.text(
            "SELECT account_id, key_id, key_hash FROM api_keys k WHERE revoked_at IS NULL AND "
            "created_at = (SELECT MIN(created_at) FROM api_keys j "
            "WHERE j.account_id = k.account_id AND j.revoked_at IS NULL)"
        )
    ).all()
    seen: set[str] = set()
    for account_id, key_id, key_hash in oldest:
        if account_id in seen:
            continue
        seen.add(account_id)
        bind.execute(
            sa.text("UPDATE accounts SET key_id = :k, key_hash = :h WHERE id = :a"),
            {"k": key_id, "h": key_hash, "a": account_id},
        )
    for (account_id,) in bind.execute(sa.text("SELECT id FROM accounts WHERE key_id IS NULL")):
        bind.execute(
            sa.text("UPDATE accounts SET key_id = :k, key_hash = :h WHERE id = :a"),
            {"k": secrets.token_hex(8), "h": "revoked", "a": account_id},
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("key_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("accounts_key_id_key", ["key_id"])
    op.drop_table("server_secrets")
    op.drop_index("ix_sign_in_failures_address_failed_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_email_failed_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index(op.f("ix_web_sessions_account_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_api_keys_account_id"), table_name="api_keys")
    op.drop_table("api_keys")
