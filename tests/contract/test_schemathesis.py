"""schemathesis ``--checks all`` against a live server, on the suite's database (SQLite or
PostgreSQL): every operation, as its own role and as each of the three roles, 0 failures.

Bounded: a fixed seed and a few examples per operation (about a minute per run). The settings
that relax a check name the rule JSON Schema cannot state (tests/contract/schemathesis.toml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import Settings
from tests.contract import fuzz


@pytest.mark.parametrize(
    ("role", "phases"),
    [
        # Each operation as the role it is for: every phase.
        ("auto", "examples,coverage,fuzzing"),
        # Every operation as one role (most are another role's: 403, declared): fuzzing only.
        ("requester", "fuzzing"),
        ("worker", "fuzzing"),
        ("operator", "fuzzing"),
    ],
)
def test_schemathesis_finds_nothing(
    settings: Settings, tmp_path: Path, role: str, phases: str
) -> None:
    code, output = fuzz.run(
        settings.database_url, tmp_path, role=role, phases=phases, max_examples=5, seed=8
    )
    summary = output[output.find("=== SUMMARY") :] if "=== SUMMARY" in output else output[-4000:]
    assert code == 0, output[-12000:]
    assert "Tested:" in summary, summary
