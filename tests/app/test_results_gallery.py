"""What the requester's gallery reads: results filtered by confidence, status, worker and
verdict; image sizes; thumbnails (small WebP, signed like the image, cached by content)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings
from app.images.thumbnails import ThumbnailCache, render, snap_width
from tests.factories import account_id, make_project, open_batch, png, signup, upload


def _answer(
    client: TestClient, project_id: str, label: str, worker: dict[str, str] | None = None
) -> tuple[dict[str, str], str]:
    worker = worker or signup(client, "worker")
    lease = client.post(f"/v1/projects/{project_id}/assignments", headers=worker).json()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": label}}, headers=worker
    )
    assert r.status_code == 200, r.text
    return worker, lease["id"]


def _results(client: TestClient, requester: dict[str, str], batch_id: str, **q: Any) -> Any:
    r = client.get(f"/v1/batches/{batch_id}/results", params=q, headers=requester)
    assert r.status_code == 200, r.text
    return r.json()


class TestFilters:
    def test_by_confidence_status_worker_and_verdict(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        # min 1: a single answer completes a task (confidence from that one answer).
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        batch = open_batch(client, requester, project["id"], n_images=3)
        alice, a1 = _answer(client, project["id"], "cat")
        _, a2 = _answer(client, project["id"], "dog")
        r = client.post(f"/v1/assignments/{a2}/reject", json={"reason": "no"}, headers=requester)
        assert r.status_code == 200, r.text
        everything = _results(client, requester, batch["id"], include="answers")["items"]
        assert len(everything) == 3
        by_task = {i["task_id"]: i for i in everything}
        answered = {i["task_id"] for i in everything if i["answers"]}
        assert len(answered) == 2
        done = _results(client, requester, batch["id"], status="completed")["items"]
        assert {i["task_id"] for i in done} == answered
        still_open = _results(client, requester, batch["id"], status="open")["items"]
        assert len(still_open) == 1
        assert still_open[0]["task_id"] not in answered
        mine = _results(client, requester, batch["id"], worker_id=account_id(alice))["items"]
        assert [i["task_id"] for i in mine] == [
            t for t in by_task if any(a["assignment_id"] == a1 for a in by_task[t]["answers"])
        ]
        rejected = _results(client, requester, batch["id"], verdict="rejected")["items"]
        assert len(rejected) == 1
        assert any(a["assignment_id"] == a2 for a in by_task[rejected[0]["task_id"]]["answers"])
        confidences = sorted(i["confidence"] for i in done)
        low = _results(client, requester, batch["id"], max_confidence=confidences[0])["items"]
        assert all(i["confidence"] <= confidences[0] for i in low)
        assert low
        high = _results(client, requester, batch["id"], min_confidence=1.01 - 0.01)["items"]
        assert all(i["confidence"] >= 1.0 for i in high)
        assert _results(client, requester, batch["id"], verdict="appealed")["items"] == []

    def test_appealed_and_answer_details(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        batch = open_batch(client, requester, project["id"], n_images=2)
        worker, asg = _answer(client, project["id"], "dog")
        client.post(f"/v1/assignments/{asg}/reject", json={"reason": "a cat"}, headers=requester)
        r = client.post(f"/v1/assignments/{asg}/appeal", json={"message": "look"}, headers=worker)
        assert r.status_code in (200, 201), r.text
        items = _results(client, requester, batch["id"], verdict="appealed", include="answers")
        (item,) = items["items"]
        (answer,) = item["answers"]
        assert answer["appeal_message"] == "look"
        assert answer["appeal_outcome"] is None
        assert answer["status"] == "rejected"

    def test_bad_filters_are_422_and_foreign_batches_404(self, client: TestClient) -> None:
        requester, other = signup(client, "requester"), signup(client, "requester")
        project = make_project(client, requester)
        batch = open_batch(client, requester, project["id"], n_images=1)
        for q in ({"min_confidence": 2}, {"verdict": "maybe"}, {"status": "nope"}):
            r = client.get(f"/v1/batches/{batch['id']}/results", params=q, headers=requester)
            assert r.status_code == 422, q
        r = client.get(f"/v1/batches/{batch['id']}/results", headers=other)
        assert r.status_code == 404


class TestThumbnails:
    def test_results_link_a_small_signed_webp(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = upload(client, requester, project["id"], {"big.png": png(1200, 600)})
        (item,) = _results(client, requester, batch["id"])["items"]
        assert (item["width"], item["height"]) == (1200, 600)
        r = client.get(item["thumbnail_url"])  # no header: the URL is the proof
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/webp"
        with Image.open(io.BytesIO(r.content)) as img:
            assert img.size == (256, 128)
        assert len(r.content) < len(client.get(item["image_url"]).content)
        # The signature still binds it: another viewer's or a changed URL shows nothing.
        assert client.get(item["thumbnail_url"].replace("sig=", "sig=x")).status_code == 404

    def test_cached_by_content_and_never_enlarged(
        self, client: TestClient, settings: Settings
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = upload(client, requester, project["id"], {"small.png": png(40, 30)})
        (item,) = _results(client, requester, batch["id"])["items"]
        first = client.get(item["image_url"] + "&w=200")
        with Image.open(io.BytesIO(first.content)) as img:
            assert img.size == (40, 30)
        cached = list((settings.data_dir / "thumbnails").rglob("*.webp"))
        assert [p.name.split("-")[1] for p in cached] == ["256.webp"]
        assert client.get(item["image_url"] + "&w=256").content == first.content
        assert client.get(item["image_url"] + "&w=0").status_code == 422

    def test_cache_unit(self, tmp_path: Path) -> None:
        assert [snap_width(w) for w in (1, 64, 65, 300, 5000)] == [64, 64, 128, 512, 1024]
        cache = ThumbnailCache(tmp_path)
        calls: list[int] = []

        def load() -> bytes:
            calls.append(1)
            return png(300, 300)

        digest = "ab" * 32
        one = cache.get_or_make(digest, 128, load)
        two = cache.get_or_make(digest, 128, load)
        assert one == two
        assert calls == [1]
        with Image.open(io.BytesIO(render(png(10, 500), 64))) as img:
            assert img.size[1] == 64


def test_a_projects_batches_are_listed_newest_first_to_its_requester_only(
    client: TestClient,
) -> None:
    requester, other = signup(client, "requester"), signup(client, "requester")
    project = make_project(client, requester)
    first = upload(client, requester, project["id"], {"a.png": png(20, 20)})
    second = upload(client, requester, project["id"], {"b.png": png(21, 20)})
    r = client.get(f"/v1/projects/{project['id']}/batches?limit=1", headers=requester)
    assert [b["id"] for b in r.json()["items"]] == [second["id"]]
    r = client.get(
        f"/v1/projects/{project['id']}/batches?cursor={r.json()['next_cursor']}",
        headers=requester,
    )
    assert [b["id"] for b in r.json()["items"]] == [first["id"]]
    assert r.json()["items"][0]["upload_report"] == first["upload_report"]
    assert client.get(f"/v1/projects/{project['id']}/batches", headers=other).status_code == 404


def test_a_draft_shows_what_launching_it_escrows(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester, reward="0.10", overlap={"min": 1, "max": 3})
    batch = upload(client, requester, project["id"], {"a.png": png(20, 20), "b.png": png(9, 9)})
    assert batch["launch_quote"] == {"answers": 6, "reward": "0.1", "fee": "0.01", "total": "0.66"}
    r = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert r.status_code == 402
    client.post("/v1/deposits", json={"amount": "0.66"}, headers=requester)
    r = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert r.status_code == 200
    assert r.json()["money"]["escrowed"] == "0.66"
    assert r.json()["launch_quote"] is None


def test_skip_invalid_reports_a_corrupt_file_and_keeps_the_others(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    files = [
        ("files", ("a.png", png(20, 20), "image/png")),
        ("files", ("bad.png", b"\x89PNG\r\n\x1a\nnope", "image/png")),
        ("files", ("a2.png", png(20, 20), "image/png")),
    ]
    r = client.post(f"/v1/projects/{project['id']}/batches", files=files, headers=requester)
    assert r.status_code == 422  # the default: one bad file refuses the upload
    r = client.post(
        f"/v1/projects/{project['id']}/batches?skip_invalid=true", files=files, headers=requester
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["task_count"] == 1
    (skipped,) = body["upload_report"]["skipped"]
    assert skipped["name"] == "bad.png"
    assert "corrupt" in skipped["reason"]
    assert body["upload_report"]["duplicates"] == [{"name": "a2.png", "same_as": "a.png"}]
    only_bad = [files[1]]
    r = client.post(
        f"/v1/projects/{project['id']}/batches?skip_invalid=true", files=only_bad, headers=requester
    )
    assert r.status_code == 422
    assert r.json()["skipped"][0]["name"] == "bad.png"


def test_adding_images_can_skip_invalid_ones_too(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    batch = upload(client, requester, project["id"], {"a.png": png(20, 20)})
    files = [
        ("files", ("b.png", png(21, 20), "image/png")),
        ("files", ("bad.png", b"\x89PNG\r\n\x1a\nnope", "image/png")),
        ("files", ("a-again.png", png(20, 20), "image/png")),
    ]
    r = client.post(f"/v1/batches/{batch['id']}/images", files=files, headers=requester)
    assert r.status_code == 422
    r = client.post(
        f"/v1/batches/{batch['id']}/images?skip_invalid=true", files=files, headers=requester
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["name"] for a in body["added"]] == ["b.png"]
    assert [p["name"] for p in body["present"]] == ["a-again.png"]
    assert [s["name"] for s in body["skipped"]] == ["bad.png"]
    assert body["batch"]["task_count"] == 2


def test_a_project_offers_exactly_the_formats_its_results_export(client: TestClient) -> None:
    """``export_formats`` is what a client shows as downloads: each one exports with 200, and a
    format it leaves out is refused (the gallery once offered COCO for classification: 422)."""
    requester = signup(client, "requester")
    cases = {
        "classification": {"type": "classification", "labels": ["cat", "dog"]},
        "bbox": {"type": "bbox", "labels": ["car"]},
    }
    offered: dict[str, list[str]] = {}
    for kind, annotation in cases.items():
        project = make_project(client, requester, annotation=annotation)
        assert (
            client.get(f"/v1/projects/{project['id']}", headers=requester).json()["export_formats"]
            == project["export_formats"]
        )
        batch = open_batch(client, requester, project["id"], n_images=2)
        for fmt in project["export_formats"]:
            r = client.get(f"/v1/batches/{batch['id']}/results?format={fmt}", headers=requester)
            assert r.status_code == 200, (kind, fmt, r.text)
        offered[kind] = project["export_formats"]
    assert "coco" in offered["bbox"]
    assert "coco" not in offered["classification"]
    batch = open_batch(
        client, requester, make_project(client, requester, annotation=cases["classification"])["id"]
    )
    r = client.get(f"/v1/batches/{batch['id']}/results?format=coco", headers=requester)
    assert r.status_code == 422


def test_confidences_are_shown_to_a_millionth_and_filtered_as_shown(
    client: TestClient, session: Any
) -> None:
    """A posterior of 0.7499999999999999 reads 0.75 in the JSON results and the CSV, and the
    confidence filters keep it at both bounds of 0.75."""
    from sqlalchemy import update

    from app.models import Task

    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 1, "max": 1})
    batch = open_batch(client, requester, project["id"], n_images=1)
    _answer(client, project["id"], "cat")
    session.execute(
        update(Task).where(Task.batch_id == batch["id"]).values(confidence=0.7499999999999999)
    )
    session.commit()
    (item,) = _results(client, requester, batch["id"])["items"]
    assert item["confidence"] == 0.75
    r = client.get(f"/v1/batches/{batch['id']}/results?format=csv", headers=requester)
    assert ",0.75," in r.text.splitlines()[1]
    for bounds, kept in (
        ({"min_confidence": 0.75}, 1),
        ({"max_confidence": 0.75}, 1),
        ({"min_confidence": 0.750001}, 0),
        ({"max_confidence": 0.749999}, 0),
    ):
        assert len(_results(client, requester, batch["id"], **bounds)["items"]) == kept, bounds
