"""Bad input never yields a 5xx: every case is a 4xx problem document and changes nothing."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings
from app.main import create_app
from tests.factories import make_project, png, signup, zip_of


def assert_problem(r, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in r.text
    return dict(body)


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid tiny PNG whose header claims 400 megapixels (a 1-bit image compresses to nothing)."""
    raw = b"".join(b"\x00" + b"\x00" * ((width + 7) // 8) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


class TestRequests:
    def test_malformed_json_is_422(self, client: TestClient) -> None:
        r = client.post(
            "/v1/accounts",
            content=b'{"role": "worker",',
            headers={"content-type": "application/json"},
        )
        assert_problem(r, 422)

    def test_wrong_types_are_422_with_locations(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        r = client.post(
            "/v1/projects",
            json={"name": 5, "annotation": "bbox", "reward": 0.04},
            headers=requester,
        )
        body = assert_problem(r, 422)
        locs = {tuple(e["loc"]) for e in body["errors"]}
        assert ("body", "name") in locs
        assert ("body", "annotation") in locs
        assert ("body", "reward") in locs

    def test_unknown_fields_are_422(self, client: TestClient) -> None:
        r = client.post("/v1/accounts", json={"role": "worker", "name": "x", "is_admin": True})
        body = assert_problem(r, 422)
        assert body["errors"][0]["loc"] == ["body", "is_admin"]

    def test_operator_role_cannot_be_self_assigned(self, client: TestClient) -> None:
        assert_problem(client.post("/v1/accounts", json={"role": "operator", "name": "x"}), 422)

    def test_missing_and_unknown_keys_are_401(self, client: TestClient) -> None:
        assert_problem(client.get("/v1/me"), 401)
        assert_problem(
            client.get(
                "/v1/me", headers={"Authorization": "Bearer tsr_0123456789abcdef_" + "x" * 43}
            ),
            401,
        )
        assert_problem(client.get("/v1/me", headers={"Authorization": "Bearer nonsense"}), 401)

    def test_wrong_role_is_403(self, client: TestClient) -> None:
        worker, requester = signup(client, "worker"), signup(client, "requester")
        assert_problem(
            client.post(
                "/v1/projects",
                json={"name": "x", "annotation": {"type": "classification", "labels": ["a"]}},
                headers=worker,
            ),
            403,
        )
        assert_problem(client.post("/v1/projects/prj_x/assignments", headers=requester), 403)
        assert_problem(client.get("/v1/admin/workers", headers=requester), 403)

    def test_another_requesters_objects_are_404(self, client: TestClient) -> None:
        owner, other = signup(client, "requester"), signup(client, "requester")
        project = make_project(client, owner)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            files=[("files", ("a.png", png()))],
            headers=owner,
        )
        batch_id = r.json()["id"]
        assert_problem(client.get(f"/v1/projects/{project['id']}", headers=other), 404)
        assert_problem(
            client.patch(f"/v1/projects/{project['id']}", json={"name": "mine"}, headers=other), 404
        )
        assert_problem(client.get(f"/v1/batches/{batch_id}", headers=other), 404)
        assert_problem(client.post(f"/v1/batches/{batch_id}/launch", headers=other), 404)
        assert_problem(client.get(f"/v1/batches/{batch_id}/results", headers=other), 404)
        assert client.get(f"/v1/batches/{batch_id}", headers=owner).json()["status"] == "draft"

    def test_unknown_route_and_wrong_method(self, client: TestClient) -> None:
        assert_problem(client.get("/v1/nothing-here"), 404)
        assert_problem(client.delete("/v1/accounts"), 405)

    def test_bad_pagination_is_422(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        assert_problem(client.get("/v1/projects?limit=0", headers=requester), 422)
        assert_problem(client.get("/v1/projects?limit=501", headers=requester), 422)
        assert_problem(client.get("/v1/projects?cursor=%%%", headers=requester), 422)

    def test_unexpected_error_is_500_without_a_trace(self, settings: Settings) -> None:
        app = create_app(settings)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("secret internals")

        with TestClient(app, raise_server_exceptions=False) as client:
            r = client.get("/boom")
        body = assert_problem(r, 500)
        assert "secret" not in r.text
        assert body["detail"] == "An unexpected error occurred; it has been logged."


class TestProjectSpec:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"annotation": {"type": "classification", "labels": ["a", "a"]}}, "annotation"),
            ({"annotation": {"type": "classification", "labels": [""]}}, "annotation"),
            ({"annotation": {"type": "keypoints", "labels": ["face"]}}, "annotation"),
            ({"annotation": {"type": "video", "labels": ["a"]}}, "annotation"),
            ({"overlap": {"min": 4, "max": 2}}, "overlap"),
            ({"overlap": {"min": 0, "max": 2}}, "overlap"),
            ({"overlap": {"min": 1, "max": 51}}, "overlap"),
            ({"confidence": 0.5}, "confidence"),
            ({"confidence": 1}, "confidence"),
            ({"reward": "0"}, "reward"),
            ({"reward": "-1"}, "reward"),
            ({"reward": "0.0000001"}, "reward"),
            ({"assignment_duration_s": 5}, "assignment_duration_s"),
            ({"auto_accept_s": -1}, "auto_accept_s"),
        ],
    )
    def test_invalid_spec_is_422(self, client: TestClient, change: dict, field: str) -> None:  # type: ignore[type-arg]
        requester = signup(client, "requester")
        body = {
            "name": "p",
            "annotation": {"type": "classification", "labels": ["a", "b"]},
            **change,
        }
        problem = assert_problem(client.post("/v1/projects", json=body, headers=requester), 422)
        assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem
        assert client.get("/v1/projects", headers=requester).json()["items"] == []


class TestImages:
    def upload(self, client: TestClient, requester: dict[str, str], project_id: str, files):  # type: ignore[no-untyped-def]
        return client.post(f"/v1/projects/{project_id}/batches", files=files, headers=requester)

    def test_corrupt_image_is_422_and_nothing_is_created(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = self.upload(
            client,
            requester,
            project["id"],
            [("files", ("a.png", png())), ("files", ("b.png", png()[:60]))],
        )
        body = assert_problem(r, 422)
        assert "b.png" in body["detail"]

    def test_not_an_image_is_415(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        gif = io.BytesIO()
        Image.new("RGB", (4, 4)).save(gif, format="GIF")
        assert_problem(
            self.upload(client, requester, project["id"], [("files", ("a.gif", gif.getvalue()))]),
            415,
        )
        assert_problem(
            self.upload(client, requester, project["id"], [("files", ("a.png", b"hello world"))]),
            415,
        )

    def test_pixel_bomb_is_422(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        body = assert_problem(
            self.upload(client, requester, project["id"], [("files", ("bomb.png", bomb_png()))]),
            422,
        )
        assert "pixel" in body["detail"].lower()

    def test_oversize_file_is_413(self, settings: Settings) -> None:
        app = create_app(settings.model_copy(update={"max_image_bytes": 20_000}))
        with TestClient(app) as client:
            requester = signup(client, "requester")
            project = make_project(client, requester)
            noisy = io.BytesIO()
            Image.frombytes("L", (200, 200), os.urandom(200 * 200)).save(noisy, format="PNG")
            r = self.upload(
                client, requester, project["id"], [("files", ("noisy.png", noisy.getvalue()))]
            )
            assert "noisy.png" in assert_problem(r, 413)["detail"]

    def test_oversize_request_is_413(self, settings: Settings) -> None:
        app = create_app(settings.model_copy(update={"max_request_bytes": 10_000}))
        with TestClient(app) as client:
            requester = signup(client, "requester")
            project = make_project(client, requester)
            r = client.post(
                f"/v1/projects/{project['id']}/batches",
                json={
                    "images": [
                        {"name": "x.png", "data_base64": base64.b64encode(b"x" * 20_000).decode()}
                    ]
                },
                headers=requester,
            )
            assert_problem(r, 413)

    def test_zip_bomb_is_413(self, settings: Settings) -> None:
        app = create_app(settings.model_copy(update={"max_zip_uncompressed_bytes": 1_000_000}))
        with TestClient(app) as client:
            requester = signup(client, "requester")
            project = make_project(client, requester)
            bomb = zip_of({"a.png": png(), "huge.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 5_000_000})
            assert len(bomb) < 100_000
            assert_problem(
                self.upload(client, requester, project["id"], [("files", ("b.zip", bomb))]), 413
            )

    def test_bad_base64_is_422(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            json={"images": [{"name": "a.png", "data_base64": "!!!not base64!!!"}]},
            headers=requester,
        )
        assert_problem(r, 422)

    def test_wrong_content_type_is_415(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            content=png(),
            headers={**requester, "content-type": "image/png"},
        )
        assert_problem(r, 415)

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/a.png",
            "http://localhost/a.png",
            "http://10.0.0.8/a.png",
            "http://172.16.3.4/a.png",
            "http://192.168.1.1/a.png",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/a.png",
            "http://224.0.0.1/a.png",
            "http://240.0.0.1/a.png",
            "http://[::1]/a.png",
            "http://[fe80::1]/a.png",
            "http://[fc00::1]/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
            "http://[::ffff:10.0.0.1]/a.png",
            "http://2130706433/a.png",
            "http://0177.0.0.1/a.png",
            "ftp://example.com/a.png",
            "file:///etc/passwd",
        ],
    )
    def test_unsafe_urls_are_422(self, client: TestClient, url: str) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        r = client.post(
            f"/v1/projects/{project['id']}/batches",
            json={"images": [{"url": url}]},
            headers=requester,
        )
        assert_problem(r, 422)


def test_money_is_refused_as_a_json_number(client: TestClient) -> None:
    requester = signup(client, "requester")
    for amount in (5, 0.5):
        r = client.post("/v1/deposits", json={"amount": amount}, headers=requester)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "amount"]
        assert "decimal string" in r.json()["errors"][0]["msg"]


def test_payout_shortfall_speaks_dollars(client: TestClient) -> None:
    worker = signup(client, "worker")
    r = client.post("/v1/payouts", json={"amount": "5"}, headers=worker)
    assert r.status_code == 402, r.text
    assert r.json()["detail"] == "Your available balance is $0.00; this payout needs $5.00."


@pytest.mark.parametrize("length", [1, 97, 98, 128, 255])
def test_every_idempotency_key_length_the_api_allows_works(client: TestClient, length: int) -> None:
    requester = signup(client, "requester")
    key = "k" * length
    first = client.post(
        "/v1/deposits", json={"amount": "1"}, headers={**requester, "Idempotency-Key": key}
    )
    again = client.post(
        "/v1/deposits", json={"amount": "1"}, headers={**requester, "Idempotency-Key": key}
    )
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert first.json() == again.json()
    too_long = client.post(
        "/v1/deposits", json={"amount": "1"}, headers={**requester, "Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 422


CONTROL_INPUTS = ["a\x00b", "a\x07b", "a\x1bb", "a\x85b", "a\x9fb"]


@pytest.mark.parametrize("bad", CONTROL_INPUTS)
def test_control_characters_in_text_fields_are_422_naming_the_field(
    client: TestClient, bad: str
) -> None:
    """On both databases: PostgreSQL would refuse a NUL with a 500 if it got that far."""
    requester = signup(client, "requester")
    bodies: list[tuple[str, dict[str, object], list[object]]] = [
        ("/v1/accounts", {"role": "worker", "name": bad}, ["body", "name"]),
        (
            "/v1/projects",
            {
                "name": bad,
                "instructions": "x",
                "annotation": {"type": "classification", "labels": ["a", "b"]},
                "reward": "0.01",
            },
            ["body", "name"],
        ),
        (
            "/v1/projects",
            {
                "name": "p",
                "instructions": bad,
                "annotation": {"type": "classification", "labels": ["a", "b"]},
                "reward": "0.01",
            },
            ["body", "instructions"],
        ),
        (
            "/v1/projects",
            {
                "name": "p",
                "instructions": "x",
                "annotation": {"type": "classification", "labels": [bad, "b"]},
                "reward": "0.01",
            },
            ["body", "annotation"],
        ),
    ]
    for path, body, loc in bodies:
        r = client.post(path, json=body, headers=requester)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["errors"][0]["loc"][: len(loc)] == loc, r.json()
    prose = client.post(
        "/v1/projects",
        json={
            "name": "p",
            "instructions": "line one\n\tline two",
            "annotation": {"type": "classification", "labels": ["a", "b"]},
            "reward": "0.01",
        },
        headers=requester,
    )
    assert prose.status_code == 201, prose.text
