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

* ``upload``: ``--upload`` (1,000) new PNGs of the same size, written to a folder, uploaded into
  a new project twice in the same run: with the Python client (``Client.upload_batch``: parallel
  chunks, its defaults) and through the browser (the project page's file input, chunks sent one
  after the other as the page does, until its per-file report shows); images per second each,
  and the ratio. Each upload gets its own project and images (no image is already stored).

Chromium runs with --disable-gpu (software rendering). ``--skip-gallery`` measures the upload only.
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


def account(base: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as api:
        body = {"role": "requester", "name": "R", "email": "r@example.com", "password": PASSWORD}
        return str(api.post("/v1/accounts", json=body).json()["api_key"])


def new_project(base: str, key: str, name: str) -> str:
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"}) as api:
        r = api.post("/v1/projects", json={"name": name, "annotation": {
            "type": "bbox", "labels": ["car"]}})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def seed(base: str, key: str, tasks: int) -> str:
    project_id = new_project(base, key, "Gallery")
    with httpx.Client(
        base_url=base, timeout=300, headers={"Authorization": f"Bearer {key}"}
    ) as api:
        batch_id = ""
        for start in range(0, tasks, 500):
            files = [("files", (f"img{i:05d}.png", png(i), "image/png"))
                     for i in range(start, min(tasks, start + 500))]  # fmt: skip
            if not batch_id:
                r = api.post(f"/v1/projects/{project_id}/batches", files=files)
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


def write_images(folder: Path, start: int, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"up{i:05d}.png"
        path.write_bytes(png(i))
        paths.append(path)
    return paths


def upload_client(base: str, key: str, project_id: str, folder: Path) -> tuple[float, int]:
    from tessera.client import Client

    t0 = time.perf_counter()
    with Client(base, key) as client:
        report = client.upload_batch(project_id, folder, manifest=folder.parent / "manifest.jsonl")
    return time.perf_counter() - t0, report.added


def upload_browser(page: object, project_id: str, paths: list[Path]) -> tuple[float, int]:
    page.goto(f"/projects/{project_id}")  # type: ignore[attr-defined]
    page.wait_for_selector("input[data-input=files]", state="attached")  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    page.set_input_files("input[data-input=files]", [str(p) for p in paths])  # type: ignore[attr-defined]
    page.wait_for_selector("[data-upload-result] [data-report]", timeout=900_000)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    added = page.locator("[data-upload-result] [data-report] p").first.inner_text()  # type: ignore[attr-defined]
    return elapsed, int(added.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--web-dir", type=Path, default=ROOT / "web" / "dist")
    parser.add_argument("--upload", type=int, default=1000, help="images per upload (0: none)")
    parser.add_argument("--skip-gallery", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp), args.web_dir)
        key = account(base)
        if not args.skip_gallery:
            t0 = time.perf_counter()
            batch = seed(base, key, args.tasks)
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
            if not args.skip_gallery:
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
                print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
                print(f"first thumbnails: cold {firsts[0]:.0f} ms, warm median "
                      f"{statistics.median(firsts[1:]):.0f} ms (goal ≤ 1000)")  # fmt: skip
                print(f"scroll: p50 {pct(frames, 0.5):.1f} ms, p95 {pct(frames, 0.95):.1f} ms "
                      f"per frame over {len(frames)} frames, {scrolled:.0f} px scrolled, {loaded} "
                      f"tasks loaded by then, {in_dom} tiles in the DOM at the end "
                      f"(goal ≤ 33 ms p95)")  # fmt: skip
            if args.upload:
                n = args.upload
                paths = write_images(Path(tmp) / "up-client" / "images", 20_000, n)
                size = sum(p.stat().st_size for p in paths)
                secs, added = upload_client(
                    base, key, new_project(base, key, "Client"), paths[0].parent
                )
                print(f"upload with the Python client: {n} images ({size / 1e6:.1f} MB) in "
                      f"{secs:.1f} s, {added} added: {n / secs:.0f} images/s")  # fmt: skip
                browser_paths = write_images(Path(tmp) / "up-browser" / "images", 30_000, n)
                bsecs, badded = upload_browser(
                    page, new_project(base, key, "Browser"), browser_paths
                )
                print(f"upload through the browser: {n} images in {bsecs:.1f} s, {badded} added: "
                      f"{n / bsecs:.0f} images/s; browser / client throughput "
                      f"{secs / bsecs:.2f}")  # fmt: skip
                print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
