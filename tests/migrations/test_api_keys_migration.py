"""Keys handed out before named API keys existed keep working after the upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, pool, text

from app.auth import service as auth_service
from app.core.db import make_engine, make_sessionmaker
from app.core.migrate import upgrade
from app.core.security import generate_api_key


def test_existing_keys_move_to_api_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0013")
    key = generate_api_key()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, role, name, key_id, key_hash, created_at) "
                "VALUES ('acc_old', 'worker', 'Old', :k, :h, '2026-01-01 00:00:00')"
            ),
            {"k": key.key_id, "h": key.secret_hash},
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        account = auth_service.authenticate(session, key.plaintext)
        assert account is not None
        assert account.id == "acc_old"
        names = session.execute(text("SELECT name FROM api_keys")).scalars().all()
        assert names == ["default"]
    engine.dispose()
