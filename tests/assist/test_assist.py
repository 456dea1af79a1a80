"""POST /v1/assist/{tool} on generated images with one clear object (a filled ellipse of a
distinct colour on a textured background): answers valid in the project's shape and close to
the truth; only for the lease holder; rate-limited; refused for the wrong project type."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.annotations import AnnotationSpec, decode_mask, validate_answer
from app.core.config import Settings
from app.main import create_app
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, signup, upload

W, H = 320, 240
CENTRE, AXES, ANGLE = (165, 118), (80, 52), 25
BOX = [60.0, 40.0, 210.0, 160.0]  # around the ellipse, with background inside too


def scene(seed: int = 7) -> tuple[bytes, np.ndarray]:
    """A PNG of a red ellipse on green texture, and the ellipse's true mask."""
    rng = np.random.default_rng(seed)
    rgb = (rng.integers(0, 70, (H, W, 3)) + np.array([40, 110, 50])).astype(np.uint8)
    truth = np.zeros((H, W), np.uint8)
    cv2.ellipse(truth, CENTRE, AXES, ANGLE, 0, 360, 1, -1)
    inside = truth > 0
    rgb[inside] = (rng.integers(0, 40, (int(inside.sum()), 3)) + np.array([190, 30, 40])).astype(
        np.uint8
    )
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue(), inside


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def polygon_mask(points: list[list[float]]) -> np.ndarray:
    # Pixel (i, j) is inside when its centre is: fill the ring shifted by half a pixel.
    canvas = np.zeros((H, W), np.uint8)
    ring = np.round((np.array(points) - 0.5) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [ring], 1, shift=4)
    return canvas > 0


def leased(
    client: TestClient, annotation: dict[str, Any]
) -> tuple[dict[str, str], str, dict[str, Any]]:
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=annotation, overlap={"min": 1, "max": 1})
    data, _ = scene()
    batch = upload(client, requester, project["id"], {"scene.png": data})
    deposit(client, requester, "10")
    assert client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
    worker = signup(client, "worker")
    r = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert r.status_code == 201, r.text
    return worker, r.json()["id"], project


POLYGON = {"type": "polygon", "labels": ["blob", "other"]}
SEGMENTATION = {"type": "segmentation", "labels": ["other", "blob"]}


def test_box_to_polygon_outlines_the_object(client: TestClient) -> None:
    worker, assignment, project = leased(client, POLYGON)
    r = client.post(
        "/v1/assist/box_to_polygon",
        json={"assignment_id": assignment, "box": BOX, "label": "blob"},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tool"] == "box_to_polygon"
    answer = body["answer"]
    assert validate_answer(AnnotationSpec(**POLYGON), answer, width=W, height=H) == answer
    [obj] = answer["objects"]
    assert obj["label"] == "blob"
    _, truth = scene()
    assert iou(polygon_mask(obj["points"]), truth) >= 0.85
    assert 4 <= len(obj["points"]) <= 200
    # What the tool gave is an answer the worker can submit as it is.
    r = client.post(f"/v1/assignments/{assignment}/submit", json={"answer": answer}, headers=worker)
    assert r.status_code == 200, r.text
    # ... and after submitting, the lease is gone: 409.
    r = client.post(
        "/v1/assist/box_to_polygon",
        json={"assignment_id": assignment, "box": BOX, "label": "blob"},
        headers=worker,
    )
    assert r.status_code == 409, r.text
    assert project["id"]


def test_box_to_mask_gives_the_objects_mask(client: TestClient) -> None:
    worker, assignment, _ = leased(client, SEGMENTATION)
    r = client.post(
        "/v1/assist/box_to_mask",
        json={"assignment_id": assignment, "box": BOX, "label": "blob"},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    mask = decode_mask(body["answer"], W, H)
    assert set(np.unique(mask).tolist()) == {0, 2}  # "blob" is label 1: pixel value 2
    _, truth = scene()
    assert iou(mask == 2, truth) >= 0.85
    assert body["area"] == int((mask == 2).sum())


def test_superpixel_contains_the_click(client: TestClient) -> None:
    worker, assignment, _ = leased(client, SEGMENTATION)
    for point in ([165, 118], [20.5, 200.2]):
        r = client.post(
            "/v1/assist/superpixel",
            json={"assignment_id": assignment, "point": point, "label": "other"},
            headers=worker,
        )
        assert r.status_code == 200, r.text
        mask = decode_mask(r.json()["answer"], W, H)
        assert mask[int(point[1]), int(point[0])] == 1
        region = mask == 1
        # A superpixel, not the image: a small share of it, and one connected-ish blob.
        assert 10 < region.sum() < W * H / 20
    # The click inside the ellipse stays (mostly) inside it: SLIC follows the colour edge.
    r = client.post(
        "/v1/assist/superpixel",
        json={"assignment_id": assignment, "point": [165, 118], "label": "blob"},
        headers=worker,
    )
    region = decode_mask(r.json()["answer"], W, H) == 2
    _, truth = scene()
    assert (region & truth).sum() >= 0.9 * region.sum()


def test_snap_moves_a_point_onto_the_edge(client: TestClient) -> None:
    worker, assignment, _ = leased(client, POLYGON)
    _, truth = scene()
    edge = truth ^ cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edge |= truth ^ cv2.dilate(truth.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(edge)

    def distance_to_edge(x: float, y: float) -> float:
        return float(np.hypot(xs + 0.5 - x, ys + 0.5 - y).min())

    # The ellipse's leftmost point is near x = 165 - 80·cos(25°) ≈ 92; start 7 px outside.
    start = [84.0, 118.0 - 80 * np.sin(np.radians(25))]
    assert distance_to_edge(*start) > 5
    r = client.post(
        "/v1/assist/snap",
        json={"assignment_id": assignment, "point": start, "radius": 15},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["snapped"] is True
    assert distance_to_edge(*body["point"]) <= 1.5
    # Far from any strong edge: the point comes back as it was.
    r = client.post(
        "/v1/assist/snap",
        json={"assignment_id": assignment, "point": [20, 20], "radius": 5},
        headers=worker,
    )
    assert r.json() == {"tool": "snap", "point": [20.0, 20.0], "snapped": False}
    r = client.post(
        "/v1/assist/snap",
        json={"assignment_id": assignment, "point": [20, 20], "radius": 51},
        headers=worker,
    )
    assert r.status_code == 422


def test_only_the_lease_holder(client: TestClient, clock: FakeClock) -> None:
    worker, assignment, _ = leased(client, POLYGON)
    other = signup(client, "worker")
    body = {"assignment_id": assignment, "box": BOX, "label": "blob"}
    r = client.post("/v1/assist/box_to_polygon", json=body, headers=other)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    r = client.post(
        "/v1/assist/box_to_polygon", json={**body, "assignment_id": "asg_nope"}, headers=worker
    )
    assert r.status_code == 404
    requester = signup(client, "requester")
    assert client.post("/v1/assist/box_to_polygon", json=body, headers=requester).status_code == 403
    assert client.post("/v1/assist/box_to_polygon", json=body).status_code == 401
    # Bad input in the body: a clear 422 naming the field.
    r = client.post("/v1/assist/box_to_polygon", json={**body, "label": "cat"}, headers=worker)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "label"]
    r = client.post(
        "/v1/assist/box_to_polygon", json={**body, "box": [300, 200, 100, 100]}, headers=worker
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "box"]
    # The lease runs out: 409, lease expired.
    clock.advance(24 * 3600)
    r = client.post("/v1/assist/box_to_polygon", json=body, headers=worker)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("lease-expired")


def test_wrong_project_type_is_422_naming_the_tool(client: TestClient) -> None:
    worker, assignment, _ = leased(client, POLYGON)
    r = client.post(
        "/v1/assist/box_to_mask",
        json={"assignment_id": assignment, "box": BOX, "label": "blob"},
        headers=worker,
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("assist-tool-not-for-project")
    assert "box_to_mask" in r.json()["detail"]
    r = client.post(
        "/v1/assist/superpixel",
        json={"assignment_id": assignment, "point": [10, 10], "label": "blob"},
        headers=worker,
    )
    assert r.status_code == 422
    assert "superpixel" in r.json()["detail"]


@pytest.fixture
def limited(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"assists_per_worker_per_minute": 3}))
    app.state.clock = clock
    with TestClient(app) as client:
        yield client


def test_rate_limited_per_worker(limited: TestClient, clock: FakeClock) -> None:
    worker, assignment, _ = leased(limited, POLYGON)
    body = {"assignment_id": assignment, "point": [20, 20], "radius": 5}
    for _ in range(3):
        assert limited.post("/v1/assist/snap", json=body, headers=worker).status_code == 200
    r = limited.post("/v1/assist/snap", json=body, headers=worker)
    assert r.status_code == 429, r.text
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert "assist calls" in r.json()["detail"]
    # Another worker has a count of its own (and is refused for the lease, not the limit).
    other = signup(limited, "worker")
    assert limited.post("/v1/assist/snap", json=body, headers=other).status_code == 404
    clock.advance(wait)
    assert limited.post("/v1/assist/snap", json=body, headers=worker).status_code == 200
