"""Signed, expiring image URLs: usable in an <img> tag without a header, bound to one image,
one viewer and one expiry, and no longer than the lease (worker) or an hour (requester)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class TestWorkerUrls:
    def test_valid_for_the_lease_and_not_after_release(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester, assignment_duration_s=600)
        open_batch(client, requester, project["id"], n_images=1)
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        url = lease["task"]["image_url"]
        q = _query(url)
        assert int(q["exp"]) <= clock.now.timestamp() + 600
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/png"
        client.post(f"/v1/assignments/{lease['id']}/release", headers=worker)
        assert client.get(url).status_code == 404

    def test_moved_to_another_image_or_viewer_or_expiry_is_404(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        open_batch(client, requester, project["id"], n_images=2)
        first = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        second = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        url_a, url_b = first["task"]["image_url"], second["task"]["image_url"]
        image_b = urlsplit(url_b).path
        q = _query(url_a)
        assert client.get(f"{image_b}?{urlsplit(url_a).query}").status_code == 404
        later = url_a.replace(f"exp={q['exp']}", f"exp={int(q['exp']) + 60}")
        assert client.get(later).status_code == 404
        other = signup(client, "worker")
        other_id = client.get("/v1/me", headers=other).json()["id"]
        assert client.get(url_a.replace(q["v"], other_id)).status_code == 404


class TestRequesterUrls:
    def test_results_links_last_at_most_an_hour(self, client: TestClient, clock: FakeClock) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        batch = open_batch(client, requester, project["id"], n_images=1)
        item = client.get(f"/v1/batches/{batch['id']}/results", headers=requester).json()["items"][
            0
        ]
        exp = int(_query(item["image_url"])["exp"])
        assert clock.now.timestamp() + 50 * 60 <= exp <= clock.now.timestamp() + 3600
        assert client.get(item["image_url"]).status_code == 200
        clock.advance(3601)
        assert client.get(item["image_url"]).status_code == 404
