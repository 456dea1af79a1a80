from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.factories import auth, make_operator, make_project, open_batch, png, signup, upload


class TestAccounts:
    def test_key_shown_once_and_works(self, client: TestClient) -> None:
        r = client.post("/v1/accounts", json={"role": "worker", "name": "Ada"})
        assert r.status_code == 201
        body = r.json()
        assert body["id"].startswith("acc_")
        me = client.get("/v1/me", headers=auth(body["api_key"])).json()
        assert me == {
            "id": body["id"],
            "role": "worker",
            "name": "Ada",
            "email": None,
            "created_at": me["created_at"],
            "balance": {"pending": "0", "available": "0", "in_flight": "0", "paid_out": "0"},
        }
        assert "api_key" not in me

    def test_requester_balance_shape(self, client: TestClient) -> None:
        me = client.get("/v1/me", headers=signup(client, "requester")).json()
        assert me["balance"] == {"available": "0", "escrowed": "0"}


def test_create_operator_cli_prints_key_last_and_reaches_admin(
    client: TestClient, settings: Settings
) -> None:
    op = make_operator(settings, "Olga")
    assert client.get("/v1/admin/stats", headers=op).status_code == 200
    signup(client, "worker", "Wendy")
    workers = client.get("/v1/admin/workers", headers=op).json()["items"]
    assert [w["name"] for w in workers] == ["Wendy"]
    assert client.get("/v1/me", headers=op).json()["role"] == "operator"


class TestProjects:
    def test_defaults_fill_every_optional_field(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        r = client.post(
            "/v1/projects",
            headers=requester,
            json={"name": "Boxes", "annotation": {"type": "bbox", "labels": ["car", "person"]}},
        )
        assert r.status_code == 201, r.text
        p = r.json()
        assert p["reward"] == "0.02"
        assert p["overlap"] == {"min": 3, "max": 5}
        assert p["confidence"] == 0.9
        assert p["qualification"] == {"gold_tasks": 0, "min_accuracy": 0.8}
        assert p["assignment_duration_s"] == 600
        assert p["auto_accept_s"] == 259200
        assert p["status"] == "active"

    def test_every_annotation_type_is_accepted(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        specs: list[dict[str, Any]] = [
            {"type": "classification", "labels": ["a", "b"]},
            {"type": "multilabel", "labels": ["a", "b"]},
            {"type": "bbox", "labels": ["car"]},
            {"type": "polygon", "labels": ["tree"]},
            {"type": "segmentation", "labels": ["road", "sky"]},
            {
                "type": "keypoints",
                "labels": ["face"],
                "keypoints": ["left_eye", "right_eye", "nose"],
                "skeleton": [[0, 2], [1, 2]],
            },
        ]
        for spec in specs:
            assert (
                make_project(client, requester, annotation=spec)["annotation"]["type"]
                == spec["type"]
            )

    def test_one_overlap_bound_implies_the_other(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        assert make_project(client, requester, overlap={"max": 1})["overlap"] == {
            "min": 1,
            "max": 1,
        }
        assert make_project(client, requester, overlap={"min": 7})["overlap"] == {
            "min": 7,
            "max": 7,
        }

    def test_patch_changes_only_given_fields(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        p = make_project(client, requester, instructions="old")
        r = client.patch(
            f"/v1/projects/{p['id']}", json={"reward": "0.5", "status": "paused"}, headers=requester
        )
        assert r.status_code == 200
        assert (r.json()["reward"], r.json()["status"], r.json()["instructions"]) == (
            "0.5",
            "paused",
            "old",
        )

    def test_annotation_locked_once_a_batch_exists(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        p = make_project(client, requester)
        new_spec = {"annotation": {"type": "classification", "labels": ["x", "y"]}}
        assert (
            client.patch(f"/v1/projects/{p['id']}", json=new_spec, headers=requester).status_code
            == 200
        )
        upload(client, requester, p["id"], {"a.png": png()})
        assert (
            client.patch(f"/v1/projects/{p['id']}", json=new_spec, headers=requester).status_code
            == 409
        )

    def test_workers_see_open_projects_with_work(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        idle = make_project(client, requester, name="no work yet")
        busy = make_project(client, requester, name="busy", reward="0.07")
        open_batch(client, requester, busy["id"], n_images=2)
        items = client.get("/v1/projects", headers=worker).json()["items"]
        assert [(i["id"], i["available_tasks"], i["reward"]) for i in items] == [
            (busy["id"], 2, "0.07")
        ]
        assert "overlap" not in items[0]
        assert (
            client.get(f"/v1/projects/{idle['id']}", headers=worker).json()["available_tasks"] == 0
        )

    def test_pagination_walks_every_item_once(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        made = [make_project(client, requester, name=f"p{i}")["id"] for i in range(5)]
        seen, cursor = [], None
        while True:
            r = client.get(
                "/v1/projects",
                params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=requester,
            ).json()
            seen += [i["id"] for i in r["items"]]
            cursor = r["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(made))


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ok"
    assert "/v1/projects/{project_id}/assignments" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
