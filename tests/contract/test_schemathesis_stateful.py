"""schemathesis ``--checks all``, stateful: the document's links (app/core/links.py) chain the
calls create project -> upload -> launch -> lease -> submit -> accept / reject -> appeal, bonus,
deposit -> balance, payout -> payout status, each call as its role (requester, worker, operator),
with valid bodies where the state decides what is valid (tests/contract/st_hooks.py), on the
suite's database, with the reconcilers running as in the service (earnings released, payouts
sent). 0 failures, and the chain must really get there: a run that never leased, submitted,
reviewed or paid out proves nothing about those.

Bounded: a fixed seed and ``TESSERA_FUZZ_SCENARIOS`` scenarios (default 12, about a minute on
SQLite); set it higher for a longer run.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from app.core.config import Settings
from tests.contract import fuzz

SCENARIOS = int(os.environ.get("TESSERA_FUZZ_SCENARIOS", "12"))

# Each reached in a valid state: the response that only a valid state gives.
MUST_REACH = (
    "POST /v1/projects 201",
    "POST /v1/projects/{project_id}/batches 201",
    "POST /v1/batches/{batch_id}/launch 200",
    "POST /v1/projects/{project_id}/assignments 201",
    "POST /v1/assignments/{assignment_id}/submit 200",
    "POST /v1/assignments/{assignment_id}/accept 200",
    "POST /v1/deposits 201",
    "POST /v1/payouts 201",
)
REVIEWED = (
    "POST /v1/assignments/{assignment_id}/accept 200",
    "POST /v1/assignments/{assignment_id}/reject 200",
    "POST /v1/assignments/{assignment_id}/bonus 201",
)


def test_stateful_schemathesis_finds_nothing_and_reaches_the_workflow(
    settings: Settings, tmp_path: Path
) -> None:
    code, output = fuzz.run(
        settings.database_url,
        tmp_path,
        role="auto",
        phases="stateful",
        max_examples=SCENARIOS,
        seed=8,
        reconcilers=True,
    )
    assert code == 0, output[-12000:]
    assert "API Links:" in output, output[-4000:]
    reached = Counter(
        " ".join(line.split(" ")[:3])
        for line in (tmp_path / "reached.txt").read_text().splitlines()
    )
    missing = [step for step in MUST_REACH if not reached[step]]
    assert not missing, (missing, sorted(reached.items()))
    assert any(reached[step] for step in REVIEWED), sorted(reached.items())
