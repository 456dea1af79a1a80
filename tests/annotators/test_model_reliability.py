"""What the requester's models panel and results gallery read: a model's measured reliability in
``GET /v1/projects/{id}/models`` (from the project's fitted worker model) and ``audited`` on each
result (the task auto-labelling's models were sure of, sent to people anyway)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.db import transaction
from app.models import ProjectModel
from consensus.geometry.skills import GeometrySkills, WorkerSkill
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from tests.quality.test_auto_label import attach_model, measured, predict_all, results


def _listed(client: TestClient, requester: dict[str, str], project_id: str) -> dict[str, Any]:
    r = client.get(f"/v1/projects/{project_id}/models", headers=requester)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    return dict(item)


class TestReliability:
    def test_null_until_a_fit_has_measured_the_model(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        attach_model(client, requester, project["id"])
        assert _listed(client, requester, project["id"])["reliability"] is None

    def test_a_fitted_confusion_matrix_gives_the_accuracy(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        model_id = attach_model(client, requester, project["id"])
        with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            measured(session, project["id"], model_id, 0.9, clock())
        got = _listed(client, requester, project["id"])["reliability"]
        assert got["measure"] == "accuracy"
        # Beta(1 + 180, 1 + 20) posterior mean of 200 answers right 90% of the time.
        assert abs(got["value"] - 181 / 202) < 1e-6
        assert 0 < got["uncertainty"] < 0.05
        assert got["answers"] == 200
        assert got["measured_at"] is not None

    def test_a_model_the_fit_did_not_see_has_none(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        attach_model(client, requester, project["id"])
        with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            measured(session, project["id"], "mdl_someoneelse0000000000000", 0.9, clock())
        assert _listed(client, requester, project["id"])["reliability"] is None

    def test_a_geometry_fit_gives_the_skill(self, client: TestClient, clock: FakeClock) -> None:
        client.app.state.settings.model_private_hosts = True  # type: ignore[attr-defined]
        requester = signup(client, "requester")
        project = make_project(client, requester, annotation={"type": "bbox", "labels": ["car"]})
        made = client.post(
            f"/v1/projects/{project['id']}/models",
            headers=requester,
            json={"kind": "http", "name": "detector", "url": "http://127.0.0.1:9/p"},
        ).json()
        skill = WorkerSkill(score_sum=24.0, detect_sum=27.0, n=30.0)
        state = GeometrySkills("bbox", workers={made["id"]: skill}).to_dict()
        with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            with transaction(session):
                now = clock()
                session.add(
                    ProjectModel(
                        project_id=project["id"],
                        state=state,
                        version=1,
                        answers_at_fit=30,
                        fitted_at=now,
                        requested_at=now,
                    )
                )
        got = _listed(client, requester, project["id"])["reliability"]
        assert got["measure"] == "skill"
        assert abs(got["value"] - state["workers"][made["id"]]["skill"]) < 1e-6
        assert got["answers"] == state["workers"][made["id"]]["n"]
        assert got["uncertainty"] is None


class TestAudited:
    def test_results_say_which_tasks_went_to_people_as_audits(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(
            client,
            requester,
            overlap={"min": 1, "max": 2},
            confidence=0.9,
            gold_rate=0,
            auto_label=True,
            auto_label_audit=0.5,
        )
        model_id = attach_model(client, requester, project["id"])
        batch = open_batch(client, requester, project["id"], n_images=20)
        make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
        with make_session() as session:
            measured(session, project["id"], model_id, 0.98, clock())
        before = results(client, requester, batch["id"])
        assert not any(r["audited"] for r in before)  # nothing predicted, nothing drawn
        predict_all(make_session, project["id"], model_id, clock())
        items = results(client, requester, batch["id"])
        audited = [r for r in items if r["audited"]]
        auto = [r for r in items if r["labeled_by"] == "model"]
        # 20 draws at 0.5: both kinds, but for 2 runs in a million.
        assert audited
        assert auto
        assert all(r["status"] == "open" and r["labeled_by"] is None for r in audited)
        assert not any(r["audited"] for r in auto)
        assert len(audited) + len(auto) == 20

        # The gallery's "labelled by" filter: the same tasks, from the database.
        def only(by: str) -> list[str]:
            url = f"/v1/batches/{batch['id']}/results?limit=500&labeled_by={by}"
            r = client.get(url, headers=requester)
            assert r.status_code == 200, r.text
            return sorted(item["task_id"] for item in r.json()["items"])

        assert only("model") == sorted(r["task_id"] for r in auto)
        assert only("audit") == sorted(r["task_id"] for r in audited)
        assert only("crowd") == []  # the audited ones wait for people: nobody completed one
        worker = signup(client, "worker")
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        done = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            headers=worker,
            json={"answer": {"label": "cat"}},
        )
        assert done.status_code == 200, done.text
        assert only("crowd") == [lease["task"]["id"]]
        assert lease["task"]["id"] in only("audit")
        bad = client.get(f"/v1/batches/{batch['id']}/results?labeled_by=robot", headers=requester)
        assert bad.status_code == 422
