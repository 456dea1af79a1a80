"""The two crowds of issue 13 item 2, run through the HTTP API: a project with gold
(qualification on 3 gold tasks, gold mixed in at 0.2), dynamic overlap 3..5, 40 real tasks, and
workers with known habits. Shared by the test (tests/quality/test_confusion_crowd.py) and the
seeds table (benchmarks/consensus/quality_seeds.py)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import Assignment, WorkerSkill
from app.quality import service as quality_service
from tests.factories import account_id, deposit, make_project, png, signup

LABELS = ["cat", "dog", "bird"]
N_TASKS = 40
N_GOLD = 12
OVERLAP = {"min": 3, "max": 5}
CONFIDENCE = 0.9
GOLD_RATE = 0.2
QUALIFICATION = {"gold_tasks": 3, "min_accuracy": 0.3}
BAN_BELOW = 0.6

CROWD_A = ["good90"] * 5 + ["sloppy65", "spammer", "constant"]
CROWD_B = ["good85"] * 3 + ["colluder", "colluder", "spammer"]
GOOD = ("good90", "good85")


@dataclass
class Worker:
    name: str
    kind: str
    headers: dict[str, str]
    answered: int = 0
    stopped: str | None = None
    """Why the last lease was refused: ``banned``, ``qualification`` (or None: never refused)."""


@dataclass
class Outcome:
    accuracy: float
    answers_per_task: float
    workers: list[Worker] = field(default_factory=list)
    open_tasks: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)
    """Each task whose result is wrong: its truth, result, status and answers in order (worker
    kind, label, whether the answer counts), for the README's account of the errors."""
    skills: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each worker's skill row at the end (graded answers, ban reason, confusion counts)."""

    def stopped(self, kind: str) -> list[str | None]:
        return [w.stopped for w in self.workers if w.kind == kind]


def answer(kind: str, truth: str, task_id: str, shared: dict[str, str], rng: random.Random) -> str:
    """A worker's label by habit. Accuracy p: right with p, else one of the other labels alike.
    The colluders answer at random but copy each other: whoever answers a task second gives
    the first one's label (on gold as on real tasks)."""
    if kind == "constant":
        return "cat"
    if kind == "spammer":
        return rng.choice(LABELS)
    if kind == "colluder":
        if task_id not in shared:
            shared[task_id] = rng.choice(LABELS)
        return shared[task_id]
    p = {"good90": 0.9, "good85": 0.85, "sloppy65": 0.65}[kind]
    return truth if rng.random() < p else rng.choice([lab for lab in LABELS if lab != truth])


def run(client: TestClient, kinds: list[str], seed: int) -> Outcome:
    rng = random.Random(seed)
    random.seed(seed)  # the service's gold mix-in draws from the global stream
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": LABELS},
        reward="0.01",
        overlap=OVERLAP,
        confidence=CONFIDENCE,
        gold_rate=GOLD_RATE,
        qualification=QUALIFICATION,
        ban_below_accuracy=BAN_BELOW,
        auto_accept_s=86_400,
    )
    truth_of: dict[str, str] = {}
    for i in range(N_GOLD):
        label = LABELS[i % len(LABELS)]
        r = client.post(
            f"/v1/projects/{project['id']}/gold",
            headers=requester,
            files={"file": (f"gold{i}.png", png(24, 18, (i, 200, seed % 250)))},
            data={"answer": json.dumps({"label": label})},
        )
        assert r.status_code == 201, r.text
        truth_of[r.json()["id"]] = label
    files = [
        ("files", (f"img{i}.png", png(24, 18, (i, 2 * i, seed % 250)))) for i in range(N_TASKS)
    ]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "50")
    launched = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert launched.status_code == 200, launched.text
    tasks = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    real = {t["task_id"]: rng.choice(LABELS) for t in tasks}
    truth_of.update(real)
    workers = [Worker(f"{k}{i}", k, signup(client, "worker")) for i, k in enumerate(kinds)]
    shared: dict[str, str] = {}
    active, leased = list(workers), True
    state = client.app.state  # type: ignore[attr-defined]
    while leased:  # rounds in a random order until a whole round leases nothing
        leased = False
        # The worker process grades mixed-in gold a moment after its submit (grade_gold_due);
        # here, once a round.
        with state.sessionmaker() as session:
            quality_service.grade_gold_due(session, now=state.clock())
        rng.shuffle(active)
        for worker in list(active):
            r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker.headers)
            if r.status_code == 403:
                active.remove(worker)
                worker.stopped = "banned" if "banned" in r.json()["detail"] else "qualification"
            if r.status_code != 201:
                continue
            leased = True
            lease = r.json()
            task_id = lease["task"]["id"]
            label = answer(worker.kind, truth_of[task_id], task_id, shared, rng)
            s = client.post(
                f"/v1/assignments/{lease['id']}/submit",
                json={"answer": {"label": label}},
                headers=worker.headers,
            )
            assert s.status_code in (200, 409), s.text  # 409: banned mid-lease
            worker.answered += s.status_code == 200
    results = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    # A task can stay open when every worker left has answered it (e.g. crowd B after all
    # three non-good workers failed the qualification: 3 workers, overlap up to 5); its current
    # consensus is what the requester would get, and is scored.
    n_open = sum(r["status"] != "completed" for r in results)
    correct = sum(r["answer"]["label"] == real[r["task_id"]] for r in results)
    bought = sum(r["answer_count"] for r in results)
    outcome = Outcome(correct / len(results), bought / len(results), workers, n_open)
    _inspect(state, outcome, project["id"], results, real)
    return outcome


def _inspect(
    state: Any,
    outcome: Outcome,
    project_id: str,
    results: list[dict[str, Any]],
    real: dict[str, str],
) -> None:
    kind_of = {account_id(w.headers): w.name for w in outcome.workers}
    with state.sessionmaker() as session:
        for row in session.scalars(select(WorkerSkill).where(WorkerSkill.project_id == project_id)):
            outcome.skills[kind_of[row.worker_id]] = {
                "graded": row.graded,
                "gold": row.gold_graded,
                "banned": row.ban_reason,
                "confusion": row.confusion,
            }
        for r in results:
            if r["answer"]["label"] == real[r["task_id"]]:
                continue
            answers = session.scalars(
                select(Assignment)
                .where(Assignment.task_id == r["task_id"], Assignment.submitted_at.is_not(None))
                .order_by(Assignment.submitted_at, Assignment.id)
            ).all()
            outcome.wrong.append(
                {
                    "truth": real[r["task_id"]],
                    "result": r["answer"]["label"],
                    "status": r["status"],
                    "answers": [
                        (
                            kind_of.get(a.worker_id, a.worker_id),
                            (a.answer or {}).get("label"),
                            a.reason != quality_service.EXCLUDED,
                        )
                        for a in answers
                    ],
                }
            )


def describe(outcome: Outcome) -> dict[str, Any]:
    return {
        "accuracy": outcome.accuracy,
        "answers_per_task": outcome.answers_per_task,
        "open_tasks": outcome.open_tasks,
        "workers": [(w.kind, w.answered, w.stopped) for w in outcome.workers],
    }
