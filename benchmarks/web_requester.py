"""The requester's results gallery in Debian's headless Chromium against ``tessera serve``.

    .venv/bin/python benchmarks/web_requester.py               # 10,000 tasks
    .venv/bin/python benchmarks/web_requester.py --tasks 2000

Starts the app (uvicorn in this process, SQLite in a temporary folder), uploads ``--tasks``
small PNGs (200×150) through the public API into one batch (a draft: no answers, so the tiles
have no overlays), signs the requester in in the browser, then reports:

* ``first thumbnails``: navigation start to the first 12 tiles' thumbnails decoded (page
  ``performance.now()``), median of 3 loads with a cold thumbnail cache on the first (goal ≤ 1 s);
* ``scroll``: frame time while the page scrolls 120 px per animation frame for 240 frames through
  the loaded tiles (new pages load on the way), p50/p95 (goal ≤ 33 ms p95), with the distance
  scrolled and how many tiles the virtual grid holds in the DOM at the end.

Not measured yet: the upload of 1,000 images through the browser against the Python client.
Chromium runs with --disable-gpu (software rendering).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import Settings  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.main import create_app  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]  # fmt: skip
PASSWORD = "benchmark password"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def png(i: int) -> bytes:
    img = Image.new("RGB", (200, 150), (i % 256, (i // 256) % 256, 200))
    ImageDraw.Draw(img).rectangle([40, 38, 110, 105], fill=(240, 200, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def serve(data_dir: Path, web_dir: Path) -> tuple[str, uvicorn.Server]:
    url = f"sqlite:///{data_dir / 'tessera.db'}"
    upgrade(url)
    settings = Settings(data_dir=data_dir, database_url=url, web_dir=web_dir,
                        run_reconcilers=False, migrate_on_start=False)  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def seed(base: str, tasks: int) -> str:
    with httpx.Client(base_url=base, timeout=300) as api:
        body = {"role": "requester", "name": "R", "email": "r@example.com", "password": PASSWORD}
        key = api.post("/v1/accounts", json=body).json()["api_key"]
        api.headers["Authorization"] = f"Bearer {key}"
        project = api.post("/v1/projects", json={"name": "Gallery", "annotation": {
            "type": "bbox", "labels": ["car"]}}).json()  # fmt: skip
        batch_id = ""
        for start in range(0, tasks, 500):
            files = [("files", (f"img{i:05d}.png", png(i), "image/png"))
                     for i in range(start, min(tasks, start + 500))]  # fmt: skip
            if not batch_id:
                r = api.post(f"/v1/projects/{project['id']}/batches", files=files)
                batch_id = r.json()["id"]
            else:
                r = api.post(f"/v1/batches/{batch_id}/images", files=files)
            assert r.status_code in (200, 201), r.text
        return batch_id


FIRST = """() => { const imgs = [...document.querySelectorAll('article.tile img')].slice(0, 12);
  return imgs.length === 12 && imgs.every(i => i.complete && i.naturalWidth > 0)
    ? performance.now() : 0; }"""

SCROLL = """(frames) => new Promise((resolve) => { const times = []; let last = performance.now();
  let n = 0; const step = (t) => { times.push(t - last); last = t; window.scrollBy(0, 120);
  if (++n < frames) requestAnimationFrame(step); else resolve(times.slice(1)); };
  requestAnimationFrame(step); })"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--web-dir", type=Path, default=ROOT / "web" / "dist")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp), args.web_dir)
        t0 = time.perf_counter()
        batch = seed(base, args.tasks)
        print(f"seeded {args.tasks} tasks in {time.perf_counter() - t0:.1f} s")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_context(viewport={"width": 1280, "height": 860},
                                       base_url=base).new_page()  # fmt: skip
            page.goto("/signin")
            page.fill("input[name=email]", "r@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("h1:has-text('Your projects')")
            firsts = []
            for _ in range(3):
                page.goto(f"/batches/{batch}/results")
                firsts.append(
                    page.wait_for_function(FIRST, polling=10, timeout=60_000).json_value()
                )
            top = page.evaluate("window.scrollY")
            frames = page.evaluate(SCROLL, 240)
            scrolled = page.evaluate("window.scrollY") - top
            loaded = page.evaluate("window.__gallery.items().length")
            in_dom = page.evaluate("document.querySelectorAll('article.tile').length")
            browser.close()
        server.should_exit = True
    print("load average at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"first thumbnails: cold {firsts[0]:.0f} ms, warm median "
          f"{statistics.median(firsts[1:]):.0f} ms (goal ≤ 1000)")  # fmt: skip
    print(f"scroll: p50 {pct(frames, 0.5):.1f} ms, p95 {pct(frames, 0.95):.1f} ms per frame over "
          f"{len(frames)} frames, {scrolled:.0f} px scrolled, {loaded} tasks loaded by then, "
          f"{in_dom} tiles in the DOM at the end (goal ≤ 33 ms p95)")  # fmt: skip


if __name__ == "__main__":
    main()
