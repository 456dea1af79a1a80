"""The worker's web app, measured in Debian's headless Chromium against ``tessera serve``.

    .venv/bin/python benchmarks/web_worker.py              # ~3 minutes
    .venv/bin/python benchmarks/web_worker.py --tasks 100 --web-dir web/dist

Starts the app (uvicorn in this process, SQLite in a temporary folder, 127.0.0.1, a free port),
seeds it through the public API, signs a worker up in the browser, then reports:

* ``submit → next``: from the Submit key press to the next task drawn and interactive (the
  page's own ``performance.now()`` hook), p50/p95 over ``--tasks`` classification tasks, each
  submitted once the next lease and its image were prefetched, as they are while a worker
  looks at a task (goal ≤ 150 ms p95);
* ``first load``: navigation start to the task page drawn and interactive, median of 5 fresh
  page loads (the browser cache warm, as for a worker who comes back; goal ≤ 1.0 s);
* ``bundle``: JS + CSS of the built app, gzipped (goal ≤ 300 KB);
* ``pan`` and ``paint``: frame time on a 6000×4000 JPEG in the segmentation tool, p50/p95 over
  120 frames each: pan = move the stage and redraw it; paint = a 24 px brush segment painted into
  the label map, its dirty rectangle redrawn, the stage redrawn (goal ≤ 33 ms p95). Measured at
  "fit" and at 100 % zoom.

Chromium runs with --disable-gpu (software rendering): a worker's browser with a GPU is faster.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
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


def png(width: int, height: int, seed: int) -> bytes:
    img = Image.new("RGB", (width, height), (seed % 256, 120, 200))
    ImageDraw.Draw(img).rectangle([8, 8, width // 2, height // 2], fill=(240, 200, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def big_jpeg() -> bytes:
    img = Image.new("RGB", (6000, 4000))
    draw = ImageDraw.Draw(img)
    for i in range(0, 6000, 250):
        draw.rectangle([i, 0, i + 125, 4000], fill=(i % 255, 90, 160))
    for j in range(0, 4000, 250):
        draw.line([0, j, 6000, j], fill=(255, 255, 255), width=6)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def serve(data_dir: Path, web_dir: Path) -> tuple[str, uvicorn.Server]:
    url = f"sqlite:///{data_dir / 'tessera.db'}"
    upgrade(url)
    settings = Settings(data_dir=data_dir, database_url=url, web_dir=web_dir,
                        run_reconcilers=False, migrate_on_start=False,
                        max_image_pixels=30_000_000)  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def seed(base: str, tasks: int) -> tuple[str, str]:
    with httpx.Client(base_url=base, timeout=120) as api:
        key = api.post("/v1/accounts", json={"role": "requester", "name": "R"}).json()["api_key"]
        api.headers["Authorization"] = f"Bearer {key}"
        api.post("/v1/deposits", json={"amount": "1000"})
        ids = []
        for annotation, images in (
            ({"type": "classification", "labels": ["a", "b", "c"]},
             [{"name": f"{i}.png", "data_base64": base64.b64encode(png(640, 480, i)).decode()}
              for i in range(tasks + 10)]),
            ({"type": "segmentation", "labels": ["road", "car"]},
             [{"name": "big.jpg", "data_base64": base64.b64encode(big_jpeg()).decode()}]),
        ):  # fmt: skip
            prj = api.post("/v1/projects", json={"name": annotation["type"], "instructions": "x",
                           "annotation": annotation, "reward": "0.01",
                           "overlap": {"min": 1, "max": 1}}).json()  # fmt: skip
            bat = api.post(f"/v1/projects/{prj['id']}/batches", json={"images": images}).json()
            assert api.post(f"/v1/batches/{bat['id']}/launch").status_code == 200
            ids.append(prj["id"])
    return ids[0], ids[1]


FRAMES_JS = """async ([mode, zoom]) => {
  const t = window.__tessera, v = t.viewer(), tool = t.tool();
  if (zoom === 1) { v.stage.scale({x: 1, y: 1}); v.stage.position({x: -2500, y: -1800}); }
  const times = [];
  for (let i = 0; i < 120; i++) {
    const t0 = performance.now();
    if (mode === 'pan') {
      v.panBy(i % 40 < 20 ? 6 : -6, 3 * Math.sin(i / 7));
    } else {
      const s = v.stage, x0 = (200 - s.x()) / s.scaleX(), y0 = (200 - s.y()) / s.scaleY();
      tool.map.paintSegment([x0 + i * 4, y0 + i * 2], [x0 + i * 4 + 4, y0 + i * 2 + 2], 12, 1);
      tool.flush(false);
    }
    v.stage.draw();
    times.push(performance.now() - t0);
    await new Promise((r) => requestAnimationFrame(r));
  }
  return times;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--web-dir", type=Path, default=ROOT / "web" / "dist")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    assets = args.web_dir / "assets"
    raw = sum(p.stat().st_size for p in assets.iterdir() if p.suffix in (".js", ".css"))
    gz = sum(len(gzip.compress(p.read_bytes(), 9)) for p in assets.iterdir()
             if p.suffix in (".js", ".css"))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp), args.web_dir)
        classification, segmentation = seed(base, args.tasks)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            ctx = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
            page = ctx.new_page()
            page.goto("/signup")
            page.fill("input[name=name]", "W")
            page.fill("input[name=email]", "w@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("h1:has-text('Find work')")
            ready = "() => window.__tessera && window.__tessera.ready()"
            loads = []
            for _ in range(5):
                page.goto(f"/work/{classification}")
                page.wait_for_function(ready)
                loads.append(page.evaluate("window.__tessera.readyAt()"))
            for _ in range(args.tasks):
                # A worker looks at a task for seconds: by then the next one is prefetched.
                page.wait_for_function("() => window.__tessera.prefetched()")
                lease = page.evaluate("window.__tessera.lease().id")
                page.keyboard.press("1")
                page.keyboard.press("Enter")
                page.wait_for_function(
                    "(p) => window.__tessera.ready() && window.__tessera.lease().id !== p",
                    arg=lease,
                )
            submit = page.evaluate("window.__tessera.timings()")
            page.goto(f"/work/{segmentation}")
            page.wait_for_function(ready, timeout=120_000)
            frames = {
                f"{mode} at {'fit' if zoom == 0 else '100%'}": page.evaluate(
                    FRAMES_JS, [mode, zoom]
                )
                for zoom in (0, 1)
                for mode in ("pan", "paint")
            }
            browser.close()
        server.should_exit = True
    result = {
        "submit_to_next_ms": {"n": len(submit), "p50": round(pct(submit, 0.5), 1),
                              "p95": round(pct(submit, 0.95), 1)},
        "first_load_ms": {"median": round(statistics.median(loads), 1), "all": [round(x) for x in loads]},
        "bundle_kb": {"js_css_raw": round(raw / 1024, 1), "js_css_gzip": round(gz / 1024, 1)},
        "frame_ms_6000x4000": {k: {"p50": round(pct(v, 0.5), 1), "p95": round(pct(v, 0.95), 1)}
                               for k, v in frames.items()},
    }  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
