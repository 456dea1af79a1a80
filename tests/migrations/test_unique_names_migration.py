"""Batches uploaded before names were unique get unique names by the same rule."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, pool, text

from app.core.migrate import upgrade


def test_existing_duplicate_names_become_unique(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0014")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        # SQLite does not enforce foreign keys on this plain engine: tasks and images suffice.
        for i, (batch, name, media) in enumerate(
            [
                ("bat_1", "cat.jpg", "image/jpeg"),
                ("bat_1", "Cat.png", "image/png"),
                ("bat_1", "photo", "image/webp"),
                ("bat_2", "cat.jpg", "image/jpeg"),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO images (id, owner_id, sha256, media_type, width, height, "
                    "size_bytes, created_at) VALUES (:i, 'acc_1', :s, :m, 10, 10, 1, "
                    "'2026-01-01 00:00:00')"
                ),
                {"i": f"img_{i}", "s": f"{i:064x}", "m": media},
            )
            conn.execute(
                text(
                    "INSERT INTO tasks (id, batch_id, project_id, image_id, image_name, status, "
                    "is_gold, answer_count, created_at) VALUES (:t, :b, 'prj_1', :i, :n, 'draft', "
                    "0, 0, '2026-01-01 00:00:00')"
                ),
                {"t": f"tsk_{i}", "b": batch, "i": f"img_{i}", "n": name},
            )
    upgrade(url)
    with engine.begin() as conn:
        names = conn.execute(text("SELECT id, image_name FROM tasks ORDER BY id")).all()
    engine.dispose()
    assert [name for _, name in names] == ["cat.jpg", "Cat_2.png", "photo.webp", "cat.jpg"]
