"""Batch uploads in every form, their reports, launch, cancel and idempotency."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.images import ImageLimits, fetch_image
from tests.conftest import FakeClock
from tests.factories import deposit, jpeg, make_project, png, signup, upload, zip_of
from workers.images import FetchImages
from workers.runner import run_pass


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class TestUpload:
    def test_multipart_files_become_draft_tasks(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = upload(client, requester, project["id"], {"a.png": png(), "b.jpg": jpeg()})
        assert batch["status"] == "draft"
        assert batch["task_count"] == 2
        results = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()[
            "items"
        ]
        assert sorted(i["image_name"] for i in results) == ["a.png", "b.jpg"]
        assert all(i["answer"] is None and i["answer_count"] == 0 for i in results)

    def test_type_comes_from_content_not_name(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = upload(client, requester, project["id"], {"photo.gif": png(10, 10)})
        url = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"][
            0
        ]["image_url"]
        r = client.get(url, headers=requester)
        assert r.headers["content-type"] == "image/png"
        assert r.content == png(10, 10)

    def test_zip_skips_non_images_with_a_report(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        archive = zip_of(
            {
                "pics/a.png": png(),
                "pics/b.jpg": jpeg(),
                "notes.txt": b"hello",
                "../../evil.png": png(9, 9),
            }
        )
        batch = upload(client, requester, project["id"], {"set.zip": archive})
        assert batch["task_count"] == 3
        skipped = batch["upload_report"]["skipped"]
        assert [s["name"] for s in skipped] == ["set.zip/notes.txt"]
        names = {
            i["image_name"]
            for i in client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()[
                "items"
            ]
        }
        assert names == {"pics/a.png", "pics/b.jpg", "evil.png"}

    def test_names_keep_their_folders_and_are_unique_in_the_batch(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        archive = zip_of(
            {
                "train/cat.jpg": jpeg(30, 20),
                "val/cat.jpg": jpeg(31, 20),
                "val/Cat.PNG": png(32, 20),
                "val/dog+cat 06.jpg": jpeg(33, 20),
                "train/chat été.png": png(34, 20),
            }
        )
        files = [
            ("files", ("set.zip", archive, "application/zip")),
            ("files", ("sub/photo", png(35, 20), "application/octet-stream")),
            ("files", ("val/cat.jpg", jpeg(36, 20), "application/octet-stream")),
        ]
        r = client.post(f"/v1/projects/{project['id']}/batches", files=files, headers=requester)
        assert r.status_code == 201, r.text
        items = client.get(f"/v1/batches/{r.json()['id']}/results", headers=requester).json()[
            "items"
        ]
        assert sorted(i["image_name"] for i in items) == sorted(
            [
                "train/cat.jpg",
                "val/cat.jpg",
                "val/Cat_2.PNG",
                "val/dog+cat 06.jpg",
                "train/chat été.png",
                "sub/photo.png",
                "val/cat_3.jpg",
            ]
        )

    def test_pre_annotations_find_images_by_their_uploaded_name(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            json={
                "images": [
                    {"name": "a:b", "data_base64": b64(png(20, 20))},
                    {"name": "a:b", "data_base64": b64(png(21, 20))},
                ],
                "pre_annotations": {"a:b": {"label": "cat"}, "a_b_2.png": {"label": "dog"}},
            },
        )
        assert r.status_code == 201, r.text
        items = client.get(f"/v1/batches/{r.json()['id']}/results", headers=requester).json()[
            "items"
        ]
        assert sorted(i["image_name"] for i in items) == ["a_b.png", "a_b_2.png"]

    def test_duplicate_image_is_reported_not_stored_twice(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        same = png(20, 20)
        batch = upload(
            client,
            requester,
            project["id"],
            {"a.png": same, "copy.png": same, "c.png": png(21, 21)},
        )
        assert batch["task_count"] == 2
        assert batch["upload_report"]["duplicates"] == [{"name": "copy.png", "same_as": "a.png"}]
        again = upload(client, requester, project["id"], {"a-again.png": same})
        items = [
            client.get(f"/v1/batches/{b['id']}/results", headers=requester).json()["items"][0]
            for b in (batch, again)
        ]
        assert items[0]["image_url"] == items[1]["image_url"]  # one image row per requester

    def test_base64_json_upload(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            json={"images": [{"name": "x.png", "data_base64": b64(png())}]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["task_count"] == 1

    def test_url_images_are_downloaded_by_the_reconciler(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        served = {"/cat.png": png(40, 30)}

        def handler(request: httpx.Request) -> httpx.Response:
            body = served.get(request.url.path)
            return httpx.Response(200, content=body) if body else httpx.Response(404)

        def fetcher(url: str, limits: ImageLimits) -> bytes:
            with httpx.Client(transport=httpx.MockTransport(handler)) as mock:
                return fetch_image(
                    url, limits, client=mock, resolver=lambda host: ["93.184.216.34"]
                )

        client.app.state.url_resolver = lambda host: ["93.184.216.34"]  # type: ignore[attr-defined]
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            json={
                "images": [
                    {"url": "https://images.example.com/cat.png"},
                    {"url": "https://images.example.com/nope.png"},
                ]
            },
        )
        assert r.status_code == 201, r.text
        batch = r.json()
        assert (batch["task_count"], batch["upload_report"]["fetching"]) == (0, 2)
        deposit(client, requester, "1")
        assert (
            client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 409
        )

        store = client.app.state.image_store  # type: ignore[attr-defined]
        reconciler = FetchImages(store, ImageLimits(), fetcher)
        for _ in range(3):  # the missing image is retried, then given up with the reason
            run_pass(client.app.state.sessionmaker, [reconciler], clock())  # type: ignore[attr-defined]
            clock.advance(600)
        body = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
        assert body["task_count"] == 1
        assert body["upload_report"]["skipped"][0]["name"] == "https://images.example.com/nope.png"
        item = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"][
            0
        ]
        assert item["image_name"] == "cat.png"
        assert (
            client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
        )

    def test_pre_annotations_are_validated_and_shown_to_workers(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester, annotation={"type": "bbox", "labels": ["car"]})
        images = [{"name": "x.png", "data_base64": b64(png(100, 80))}]
        bad = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            json={
                "images": images,
                "pre_annotations": {
                    "x.png": {"objects": [{"label": "car", "box": [90, 0, 20, 10]}]}
                },
            },
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"][:3] == ["body", "pre_annotations", "x.png"]
        pre = {"objects": [{"label": "car", "box": [10, 10, 20, 10]}]}
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            json={"images": images, "pre_annotations": {"x.png": pre}},
        )
        deposit(client, requester, "1")
        client.post(f"/v1/batches/{r.json()['id']}/launch", headers=requester)
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        assert lease["task"]["pre_annotation"] == {
            "objects": [{"label": "car", "box": [10.0, 10.0, 20.0, 10.0]}]
        }

    def test_empty_zip_is_422(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            headers=requester,
            files=[("files", ("x.zip", zip_of({"readme.txt": b"no images"})))],
        )
        assert r.status_code == 422
        assert r.json()["skipped"][0]["name"] == "x.zip/readme.txt"


class TestLaunchAndCancel:
    def test_launch_fixes_terms_and_opens(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.05", overlap={"min": 2, "max": 4})
        batch = upload(client, requester, project["id"], {"a.png": png()})
        deposit(client, requester, "1")
        launched = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).json()
        assert launched["status"] == "open"
        assert (launched["reward"], launched["overlap"]) == ("0.05", {"min": 2, "max": 4})
        client.patch(f"/v1/projects/{project['id']}", json={"reward": "0.10"}, headers=requester)
        assert (
            client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["reward"] == "0.05"
        )
        again = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
        assert again.status_code == 409

    def test_cancel_twice_is_409(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = upload(client, requester, project["id"], {"a.png": png()})
        assert (
            client.post(f"/v1/batches/{batch['id']}/cancel", headers=requester).status_code == 200
        )
        assert (
            client.post(f"/v1/batches/{batch['id']}/cancel", headers=requester).status_code == 409
        )
        assert (
            client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 409
        )


class TestIdempotency:
    def post(
        self, client: TestClient, requester: dict[str, str], project_id: str, key: str, data: bytes
    ) -> Any:
        return client.post(
            f"/v1/projects/{project_id}/batches",
            headers={**requester, "Idempotency-Key": key},
            files=[("files", ("a.png", data))],
        )

    def test_same_key_same_body_replays_and_creates_once(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        first = self.post(client, requester, project["id"], "k1", png())
        second = self.post(client, requester, project["id"], "k1", png())
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] == second.json()["id"]
        assert second.headers["Idempotent-Replayed"] == "true"

    def test_same_key_other_body_is_409(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        self.post(client, requester, project["id"], "k2", png())
        r = self.post(client, requester, project["id"], "k2", png(5, 5))
        assert r.status_code == 409
        assert r.json()["type"].endswith("idempotency-key-reused")

    def test_a_refusal_is_kept_for_its_key(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r1 = client.post(
            "/v1/batches/bat_00000000000000000000000000/launch",
            headers={**requester, "Idempotency-Key": "k3"},
        )
        r2 = client.post(
            "/v1/batches/bat_00000000000000000000000000/launch",
            headers={**requester, "Idempotency-Key": "k3"},
        )
        assert r1.status_code == r2.status_code == 404
        assert r2.headers["Idempotent-Replayed"] == "true"
        assert project["id"]

    def test_keys_belong_to_one_account(self, client: TestClient) -> None:
        a, b = signup(client, "requester"), signup(client, "requester")
        pa, pb = make_project(client, a), make_project(client, b)
        ra = self.post(client, a, pa["id"], "shared", png())
        rb = self.post(client, b, pb["id"], "shared", png(7, 7))
        assert ra.status_code == rb.status_code == 201
        assert ra.json()["id"] != rb.json()["id"]
