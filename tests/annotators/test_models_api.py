"""``POST/GET/DELETE /v1/projects/{id}/models``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import make_project, signup

CLASSES = {"type": "classification", "labels": ["cat", "dog"]}
BOXES = {"type": "bbox", "labels": ["car"]}


def _public(_host: str) -> list[str]:
    return ["93.184.215.14"]


class TestAttach:
    def test_http_model_gets_a_secret_once(self, client: TestClient) -> None:
        client.app.state.url_resolver = _public  # type: ignore[attr-defined]
        r = signup(client, "requester")
        p = make_project(client, r, annotation=BOXES)
        made = client.post(
            f"/v1/projects/{p['id']}/models",
            headers=r,
            json={"kind": "http", "name": "detector", "url": "https://models.example/predict"},
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["id"].startswith("mdl_")
        assert body["signing_secret"].startswith("tms_")
        assert body["timeout_s"] == 10.0
        listed = client.get(f"/v1/projects/{p['id']}/models", headers=r).json()
        assert [m["id"] for m in listed["items"]] == [body["id"]]
        assert "signing_secret" not in listed["items"][0]
        assert listed["items"][0]["predictions"] == 0

    def test_private_url_refused(self, client: TestClient) -> None:
        r = signup(client, "requester")
        p = make_project(client, r, annotation=BOXES)
        for url in ("http://127.0.0.1:9000/p", "http://10.0.0.2/p", "ftp://x.example/p"):
            made = client.post(
                f"/v1/projects/{p['id']}/models",
                headers=r,
                json={"kind": "http", "name": "m", "url": url},
            )
            assert made.status_code == 422, (url, made.text)
            assert made.json()["type"].endswith("unsafe-model-url")

    def test_private_url_allowed_by_setting(self, client: TestClient) -> None:
        client.app.state.settings.model_private_hosts = True  # type: ignore[attr-defined]
        r = signup(client, "requester")
        p = make_project(client, r, annotation=BOXES)
        made = client.post(
            f"/v1/projects/{p['id']}/models",
            headers=r,
            json={"kind": "http", "name": "m", "url": "http://127.0.0.1:9000/p"},
        )
        assert made.status_code == 201, made.text

    def test_builtin_only_for_classes(self, client: TestClient) -> None:
        r = signup(client, "requester")
        boxes = make_project(client, r, annotation=BOXES)
        refused = client.post(
            f"/v1/projects/{boxes['id']}/models", headers=r, json={"kind": "builtin", "name": "b"}
        )
        assert refused.status_code == 422
        assert refused.json()["type"].endswith("model-kind-not-for-project")
        classes = make_project(client, r, annotation=CLASSES)
        made = client.post(
            f"/v1/projects/{classes['id']}/models", headers=r, json={"kind": "builtin", "name": "b"}
        )
        assert made.status_code == 201
        assert made.json()["signing_secret"] is None

    def test_http_needs_url_and_builtin_takes_none(self, client: TestClient) -> None:
        r = signup(client, "requester")
        p = make_project(client, r, annotation=CLASSES)
        for body in (
            {"kind": "http", "name": "m"},
            {"kind": "builtin", "name": "m", "url": "https://x.example/"},
            {"kind": "onnx", "name": "m"},
        ):
            assert (
                client.post(f"/v1/projects/{p['id']}/models", headers=r, json=body).status_code
                == 422
            )


class TestOwnership:
    def test_someone_elses_project_is_404(self, client: TestClient) -> None:
        owner, other = signup(client, "requester"), signup(client, "requester")
        p = make_project(client, owner, annotation=CLASSES)
        made = client.post(
            f"/v1/projects/{p['id']}/models", headers=owner, json={"kind": "builtin", "name": "b"}
        ).json()
        url = f"/v1/projects/{p['id']}/models"
        assert client.get(url, headers=other).status_code == 404
        assert (
            client.post(url, headers=other, json={"kind": "builtin", "name": "b"}).status_code
            == 404
        )
        assert client.delete(f"{url}/{made['id']}", headers=other).status_code == 404
        worker = signup(client, "worker")
        assert client.get(url, headers=worker).status_code == 403
        assert len(client.get(url, headers=owner).json()["items"]) == 1

    def test_delete_hides_it_and_twice_is_404(self, client: TestClient) -> None:
        r = signup(client, "requester")
        p = make_project(client, r, annotation=CLASSES)
        url = f"/v1/projects/{p['id']}/models"
        made = client.post(url, headers=r, json={"kind": "builtin", "name": "b"}).json()
        assert client.delete(f"{url}/{made['id']}", headers=r).status_code == 204
        assert client.get(url, headers=r).json()["items"] == []
        assert client.delete(f"{url}/{made['id']}", headers=r).status_code == 404
