"""PostgreSQL's hot path: a lease and a submit are one database call each, no ORM statement,
and the consensus it computes is the engine's, number for number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.models import Task, WebhookDelivery
from app.quality.engine import ClassificationEngine, TaskAnswer
from app.quality.skills import estimate
from app.work.hotpath import HotPath
from tests.factories import make_project, open_batch, signup


@pytest.fixture
def calls(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every hot-path call's result, and every ORM statement, while the test runs."""
    seen: list[Any] = []
    real = HotPath._call

    def spy(self: HotPath, sql: str, params: tuple[object, ...]) -> dict[str, Any]:
        result = real(self, sql, params)
        seen.append(result)
        return result

    monkeypatch.setattr(HotPath, "_call", spy)
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def orm(*_args: object) -> None:
        seen.append("orm")

    event.listen(engine, "before_cursor_execute", orm)
    yield seen
    event.remove(engine, "before_cursor_execute", orm)


@pytest.mark.postgres_only
def test_lease_and_submit_are_one_call_each_with_the_engines_posterior(
    client: TestClient, calls: list[Any]
) -> None:
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 3, "max": 3},
        annotation={"type": "classification", "labels": ["cat", "dog", "fox"]},
    )
    open_batch(client, requester, project["id"], n_images=1)
    workers = [signup(client, "worker") for _ in range(3)]
    calls.clear()
    labels = ["cat", "dog", "cat"]
    for worker, label in zip(workers, labels, strict=True):
        r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert r.status_code == 201, r.text
        lease = r.json()
        assert lease["reward"] == "0.02"
        assert lease["task"]["image_url"].startswith("http")
        r = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": label}},
            headers=worker,
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted"
        assert r.json()["reason"] is None
    assert "orm" not in calls, "the hot path ran an ORM statement"
    assert len(calls) == 6
    assert all("fallback" not in c for c in calls), calls

    engine = ClassificationEngine(["cat", "dog", "fox"])
    expected = engine.consensus(
        [
            TaskAnswer(f"w{i}", {"label": lab}, estimate(None).accuracy)
            for i, lab in enumerate(labels)
        ]
    )
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        task = session.scalars(select(Task).where(Task.project_id == project["id"])).one()
        assert task.status == "completed"
        assert task.consensus == expected.answer
        assert task.confidence is not None
        assert abs(task.confidence - expected.confidence) <= 1e-15
    items = client.get("/v1/me/assignments", headers=workers[1]).json()["items"]
    assert items[0]["status"] == "submitted"


@pytest.mark.postgres_only
def test_what_the_function_does_not_handle_goes_to_the_service(
    client: TestClient, calls: list[Any]
) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    open_batch(client, requester, project["id"], n_images=2)
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    calls.clear()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "emu"}}, headers=worker
    )
    assert r.status_code == 422, r.text
    assert calls[0] == {"fallback": "answer", "counted": True}
    assert "orm" in calls
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=requester)
    assert r.status_code == 403, r.text
    r = client.post("/v1/projects/prj_nope/assignments", headers=worker)
    assert r.status_code == 404, r.text


def test_the_functions_constants_are_the_pythons() -> None:
    """The PL/pgSQL functions restate a few constants of the Python rules: a change to one side
    must show up here (runs on SQLite too: it reads the migration's text)."""
    import importlib

    from app.models.quality_settings import DEFAULT_BENEFIT_OF_DOUBT_BELOW
    from app.quality import service, skills

    latest = importlib.import_module("migrations.versions.2026-12-01-2000_ban_on_pooled_confusion")
    sql = latest.SUBMIT
    helpers = importlib.import_module(
        "migrations.versions.2026-12-01-1700_worker_confusion"
    ).HELPERS
    assert (skills.PRIOR_RIGHT, skills.PRIOR_WRONG) == (3.5, 1.5)
    # The confusion prior: CONFUSION_PRIOR_MASS pseudo-answers over the rows, right 70%.
    assert skills.CONFUSION_PRIOR_MASS == 5.0
    assert "(5.0 / p_k) * 0.7" in helpers
    assert "(5.0 / p_k) * 0.3" in helpers
    assert "AND (s.banned_at IS NULL OR x.id = p_id)" in sql
    # 0028: the pooled rule's point estimate, skills.ConfusionSkill.plain (the Beta prior's
    # 3.5 right in 5 on the counts' diagonal and total).
    assert "(3.5 + sum(e) FILTER (WHERE (o - 1) % (v_k + 1) = 0))" in latest.POOLED
    assert "/ (5.0 + sum(e))" in latest.POOLED
    assert latest.POOLED in sql
    # 0023 (webhooks) is 0022's function with the outbox writes added, 0025 is 0023's with
    # banned workers skipped and both ban rules named, 0028 0025's with the pooled rule named
    # too: the same constants throughout.
    webhooks = importlib.import_module("migrations.versions.2026-12-01-1710_webhooks").SUBMIT
    for text in (sql, webhooks):
        assert (
            "(3.5 + r.right_sum) / ((3.5 + r.right_sum) + ((1.5 + r.graded) - r.right_sum))" in text
        )
        assert f"g.graded >= {skills.MIN_GRADED_FOR_BAN}" in text
        assert f"{DEFAULT_BENEFIT_OF_DOUBT_BELOW})" in text
        assert f"'{service.EXCLUDED}'" in text
    assert "INSERT INTO webhook_deliveries" in webhooks
    assert "INSERT INTO webhook_deliveries" in sql


@pytest.mark.postgres_only
def test_submit_with_confusion_rows_is_the_services_model(
    client: TestClient, calls: list[Any]
) -> None:
    """Workers with submit-time confusion rows (migration 0022): the function's posterior is the
    engine's, and each worker's crowd counts grow by its leave-one-out posterior, as the
    service's ``_grade`` would add them."""
    import numpy as np

    from app.models import Assignment, WorkerSkill
    from app.quality import service
    from app.quality.skills import confusion_skill, upper_bound
    from tests.factories import account_id

    labels = ["cat", "dog", "fox"]
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 3, "max": 3},
        annotation={"type": "classification", "labels": labels},
    )
    open_batch(client, requester, project["id"], n_images=1)
    workers = [signup(client, "worker") for _ in range(3)]
    eye = np.eye(3)
    stored = [
        {
            "gold": (eye * 3).ravel().tolist(),
            "crowd": (eye * 5 + 0.5).ravel().tolist(),
            "gold_upper": upper_bound(eye * 3),
        },
        {"gold": [0.0] * 9, "crowd": np.tile([4.0, 0.0, 0.0], 3).tolist(), "gold_upper": None},
        # a crowd record better than its gold allows: set aside
        {
            "gold": np.ones(9).tolist(),
            "crowd": (eye * 9).ravel().tolist(),
            "gold_upper": upper_bound(np.ones((3, 3))),
        },
    ]
    from app.core.clock import utc_now

    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        for w, conf in zip(workers, stored, strict=True):
            session.add(
                WorkerSkill(
                    project_id=project["id"],
                    worker_id=account_id(w),
                    graded=9,
                    agreement_sum=6.0,
                    fast_answers=0,
                    gold_graded=3,
                    gold_agreement_sum=3.0,
                    confusion=conf,
                    updated_at=utc_now(),
                )
            )
        session.commit()
    calls.clear()
    answers = ["cat", "cat", "dog"]
    for worker, label in zip(workers, answers, strict=True):
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        r = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": label}},
            headers=worker,
        )
        assert r.status_code == 200, r.text
    assert all("fallback" not in c for c in calls), calls

    engine = ClassificationEngine(labels)
    rows = {}
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        before = [
            WorkerSkill(
                project_id=project["id"],
                worker_id=account_id(w),
                graded=9,
                agreement_sum=6.0,
                confusion=conf,
            )
            for w, conf in zip(workers, stored, strict=True)
        ]
        task_answers = service._task_answers(
            engine,
            [
                Assignment(worker_id=account_id(w), answer={"label": lab})
                for w, lab in zip(workers, answers, strict=True)
            ],
            {b.worker_id: b for b in before},
        )
        expected = engine.consensus(task_answers)
        loo = engine.leave_one_out(task_answers)
        task = session.scalars(select(Task).where(Task.project_id == project["id"])).one()
        assert task.consensus == expected.answer
        assert task.confidence is not None
        assert abs(task.confidence - expected.confidence) <= 1e-12
        for w in workers:
            rows[account_id(w)] = session.get_one(WorkerSkill, (project["id"], account_id(w)))
        for i, (w, lab) in enumerate(zip(workers, answers, strict=True)):
            got = confusion_skill(rows[account_id(w)], 3)
            want = confusion_skill(before[i], 3).crowd.copy()
            want[:, labels.index(lab)] += loo[i]
            assert np.allclose(got.crowd, want, atol=2e-6), (i, got.crowd, want)
            assert np.allclose(got.gold, confusion_skill(before[i], 3).gold)
            assert got.gold_upper == stored[i]["gold_upper"]


@pytest.mark.postgres_only
def test_the_submit_function_writes_the_webhook_outbox_itself(
    client: TestClient, calls: list[Any]
) -> None:
    """With webhooks registered, a submit is still one call: the function writes the
    ``assignment.submitted`` and ``task.completed`` rows (in that order) in the same call."""
    client.app.state.url_resolver = lambda host: ["93.184.216.34"]  # type: ignore[attr-defined]
    requester, worker = signup(client, "requester"), signup(client, "worker")
    r = client.post(
        "/v1/webhooks",
        json={
            "url": "https://hooks.example.com/",
            "events": ["assignment.submitted", "task.completed"],
        },
        headers=requester,
    )
    assert r.status_code == 201, r.text
    project = make_project(client, requester, overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=1)
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
    calls.clear()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "dog"}}, headers=worker
    )
    assert r.status_code == 200, r.text
    assert "orm" not in calls, calls
    assert len(calls) == 1, calls
    assert "fallback" not in calls[0], calls
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
    assert [d.event_type for d in rows] == ["assignment.submitted", "task.completed"]
    submitted, completed = rows[0].payload, rows[1].payload
    assert submitted["assignment_id"] == lease["id"]
    assert submitted["submitted_at"] == r.json()["submitted_at"]
    assert completed["answer"] == {"label": "dog"}
    assert completed["answer_count"] == 1
    assert {d.order_key for d in rows} == {submitted["batch_id"]}


def test_a_worker_only_the_pooled_rule_finds_is_banned_at_submit(
    client: TestClient, calls: list[Any]
) -> None:
    """A worker whose confusion rows keep the balanced accuracy above the threshold (a row it
    has hardly answered keeps the prior's 70%) but whose counts pooled are credibly below it:
    the service's rule bans it when a task it answered completes; on PostgreSQL the submit
    function names it for ``ban_if_due`` (its pooled point estimate is below the threshold,
    0028), which bans it the same way."""
    import numpy as np

    from app.core.clock import utc_now
    from app.models import WorkerSkill
    from app.quality.skills import ConfusionSkill, confusion_skill, estimate
    from tests.factories import account_id

    labels = ["cat", "dog", "fox"]
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 3, "max": 3},
        annotation={"type": "classification", "labels": labels},
        ban_below_accuracy=0.6,
    )
    open_batch(client, requester, project["id"], n_images=1)
    workers = [signup(client, "worker") for _ in range(3)]
    # no cat row; dog 3 of 3; fox 12 of 40 (cat 28)
    crowd = np.array([[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [28.0, 0.0, 12.0]])
    bad = ConfusionSkill(np.zeros((3, 3)), crowd)
    # the balanced rule keeps it, the pooled one does not
    assert bad.accuracy >= 0.6
    assert bad.upper >= 0.6
    assert bad.plain.accuracy < 0.6
    assert bad.plain.upper < 0.6
    good = {"gold": (np.eye(3) * 10).ravel().tolist(), "crowd": [0.0] * 9, "gold_upper": None}
    stored = [{"gold": [0.0] * 9, "crowd": crowd.ravel().tolist(), "gold_upper": None}, good, good]
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        for w, conf in zip(workers, stored, strict=True):
            session.add(
                WorkerSkill(
                    project_id=project["id"],
                    worker_id=account_id(w),
                    graded=20,
                    agreement_sum=19.0,  # one coin: well above the threshold
                    fast_answers=0,
                    gold_graded=3,
                    gold_agreement_sum=3.0,
                    confusion=conf,
                    qualified_at=utc_now(),
                    updated_at=utc_now(),
                )
            )
        session.commit()
    calls.clear()
    for worker in workers:
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
        assert lease.status_code == 201, lease.text
        r = client.post(
            f"/v1/assignments/{lease.json()['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        assert r.status_code == 200, r.text
    if client.app.state.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        # the function itself judged the task and named the worker (no fallback to the service)
        submits = [c for c in calls if isinstance(c, dict) and "check_bans" in c]
        assert len(submits) == 3, calls
        assert submits[-1]["check_bans"] == [account_id(workers[0])], submits
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = [session.get_one(WorkerSkill, (project["id"], account_id(w))) for w in workers]
        assert estimate(rows[0]).upper >= 0.6
        assert confusion_skill(rows[0], 3).upper >= 0.6
        assert rows[0].banned_at is not None
        assert "each against the known answer or the other workers' answers" in (
            rows[0].ban_reason or ""
        )
        assert rows[1].banned_at is None
        assert rows[2].banned_at is None
