"""Assist latency (issue 15): each assist tool on a 1-megapixel image, p50/p95 wall time and
median CPU time per call, through the service functions (``app.assist.service``) that
``POST /v1/assist/{tool}`` calls, so reading the lease, fetching the image from the ImageStore,
decoding it, the image work and validating the answer are all inside the measurement.

    .venv/bin/python benchmarks/model_assist.py [--calls 40] [--megapixels 1.0]

A requester, a polygon and a segmentation project, one 1-MP PNG each (a red ellipse on green
noise texture, covering ~20% of the image) and a worker's lease, all made through the HTTP API
on an SQLite database in a temporary folder (the database part is one indexed read; the image
work is what costs). Calls to the tools alternate in rounds (order rotated) so the machine's
noise falls on all of them alike. The box is the ellipse's bounding box plus 10%, about 40% of
the image: the large-object case (GrabCut's cost grows with the box, up to ``WORK_PIXELS``).
Also reported: the cost of reading and decoding the PNG alone, the IoU of the outline with the
true ellipse and that of box_to_mask's mask.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from app.annotations.masks import decode_mask  # noqa: E402
from app.assist import service, vision  # noqa: E402
from app.core.clock import utc_now  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Account  # noqa: E402


def scene(megapixels: float) -> tuple[bytes, np.ndarray, list[float]]:
    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    height = round(width * 3 / 4)
    rng = np.random.default_rng(3)
    rgb = (rng.integers(0, 70, (height, width, 3)) + np.array([40, 110, 50])).astype(np.uint8)
    truth = np.zeros((height, width), np.uint8)
    centre, axes = (width // 2, height // 2), (int(width * 0.3), int(height * 0.27))
    cv2.ellipse(truth, centre, axes, 15, 0, 360, 1, -1)
    inside = truth > 0
    rgb[inside] = (rng.integers(0, 40, (int(inside.sum()), 3)) + np.array([190, 30, 40])).astype(
        np.uint8
    )
    ys, xs = np.nonzero(inside)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    box = [
        float(max(0, x0 - mx)),
        float(max(0, y0 - my)),
        float(min(width, x1 + mx) - max(0, x0 - mx)),
        float(min(height, y1 + my) - max(0, y0 - my)),
    ]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue(), inside, box


def lease(c: TestClient, annotation: dict[str, object], data: bytes) -> tuple[dict[str, str], str]:
    r = c.post("/v1/accounts", json={"role": "requester", "name": "req"})
    req = {"Authorization": f"Bearer {r.json()['api_key']}"}
    body = {
        "name": "p",
        "annotation": annotation,
        "reward": "0.02",
        "overlap": {"min": 1, "max": 1},
    }
    project = c.post("/v1/projects", json=body, headers=req).json()["id"]
    files = [("files", ("scene.png", data, "image/png"))]
    batch = c.post(f"/v1/projects/{project}/batches", files=files, headers=req).json()["id"]
    c.post("/v1/deposits", json={"amount": "10"}, headers=req)
    assert c.post(f"/v1/batches/{batch}/launch", headers=req).status_code == 200
    r = c.post("/v1/accounts", json={"role": "worker", "name": "w"})
    worker_id = r.json()["id"]
    wrk = {"Authorization": f"Bearer {r.json()['api_key']}"}
    r = c.post(f"/v1/projects/{project}/assignments", headers=wrk)
    assert r.status_code == 201, r.text
    return {"worker_id": worker_id}, r.json()["id"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per tool")
    parser.add_argument("--megapixels", type=float, default=1.0)
    args = parser.parse_args()
    data, truth, box = scene(args.megapixels)
    height, width = truth.shape
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            data_dir=Path(tmp),
            database_url=f"sqlite:///{tmp}/bench.db",
            run_reconcilers=False,
            migrate_on_start=True,
        )
        app = create_app(settings)
        with TestClient(app) as c:
            poly_ids, poly_asg = lease(c, {"type": "polygon", "labels": ["blob"]}, data)
            seg_ids, seg_asg = lease(c, {"type": "segmentation", "labels": ["blob"]}, data)
            store = app.state.image_store
            sha = hashlib.sha256(data).hexdigest()
            session = app.state.sessionmaker()
            now = utc_now()
            poly_worker = session.get(Account, poly_ids["worker_id"])
            seg_worker = session.get(Account, seg_ids["worker_id"])
            session.commit()
            cx, cy = width / 2, height / 2
            tools: dict[str, Callable[[], object]] = {
                "box_to_polygon": lambda: service.box_to_polygon(
                    session, store, poly_worker, poly_asg, tuple(box), "blob", now=now
                ),
                "box_to_mask": lambda: service.box_to_mask(
                    session, store, seg_worker, seg_asg, tuple(box), "blob", now=now
                ),
                "superpixel": lambda: service.superpixel(
                    session, store, seg_worker, seg_asg, (cx, cy), "blob", segments=400, now=now
                ),
                "snap": lambda: service.snap(
                    session, store, poly_worker, poly_asg, (box[0] + 3, cy), 20, now=now
                ),
                "read + decode only": lambda: vision.decode_rgb(store.get(sha)),
            }
            for fn in tools.values():  # warm-up: imports, first allocations
                fn()
            wall: dict[str, list[float]] = {name: [] for name in tools}
            cpu: dict[str, list[float]] = {name: [] for name in tools}
            names = list(tools)
            for i in range(args.calls):
                order = names[i % len(names) :] + names[: i % len(names)]
                for name in order:
                    t0, c0 = time.perf_counter(), time.process_time()
                    tools[name]()
                    wall[name].append((time.perf_counter() - t0) * 1000)
                    cpu[name].append((time.process_time() - c0) * 1000)
            result = service.box_to_polygon(
                session, store, poly_worker, poly_asg, tuple(box), "blob", now=now
            )
            masked = service.box_to_mask(
                session, store, seg_worker, seg_asg, tuple(box), "blob", now=now
            )
            session.close()
    points = result.answer["objects"][0]["points"]
    canvas = np.zeros_like(truth, dtype=np.uint8)
    cv2.fillPoly(canvas, [np.round((np.array(points) - 0.5) * 16).astype(np.int32)], 1, shift=4)
    iou = float(((canvas > 0) & truth).sum() / ((canvas > 0) | truth).sum())
    print(
        f"image {width}x{height} ({width * height / 1e6:.2f} MP, PNG {len(data) / 1e6:.1f} MB), "
        f"box {box[2]:.0f}x{box[3]:.0f} ({box[2] * box[3] / (width * height):.0%} of it), "
        f"{args.calls} calls per tool, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("| tool | p50 ms | p95 ms | CPU ms (median) |")
    print("|---|---|---|---|")
    for name in names:
        print(
            f"| {name} | {statistics.median(wall[name]):.0f} | {pct(wall[name], 0.95):.0f} "
            f"| {statistics.median(cpu[name]):.0f} |"
        )
    print(f"box_to_polygon: {len(points)} points, IoU with the true ellipse {iou:.3f}")
    mask = decode_mask(masked.answer, width, height) > 0
    mask_iou = float((mask & truth).sum() / (mask | truth).sum())
    print(
        f"box_to_mask: IoU with the true ellipse {mask_iou:.4f} (GrabCut on ≤{vision.WORK_PIXELS:,} px, {vision.GRABCUT_ITERATIONS} iterations)"
    )


if __name__ == "__main__":
    main()
