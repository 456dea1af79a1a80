"""Exports with images: time and peak RSS of a 10,000-image bbox batch to COCO and YOLO zips,
next to ``zip -r`` of the same files, in one run.

    .venv/bin/python benchmarks/exports.py [--images 10000] [--rounds 3]

Generates small JPEGs (noise, ~20 KB, non-square) into a LocalImageStore in a temporary folder
and the same files under their names in a plain folder for ``zip``. Each export runs in a fresh
child process (so its peak RSS is its own) that reads the images through the ImageStore and
streams the zip to a file, as the results endpoint streams it to a client; the child reports
its RSS when idle (imports done, items built) and its peak. Rounds alternate the variants; we
report medians. Peak RSS is also measured with a batch 10x smaller, to show it does not grow
with the batch.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_images(count: int, folder: Path) -> list[tuple[str, str, int, int]]:
    """``(name, sha256, width, height)`` per image; bytes in ``folder/store`` and ``folder/files``."""
    from app.images.store import LocalImageStore

    store = LocalImageStore(folder / "store")
    rng = np.random.default_rng(1)
    rows = []
    for i in range(count):
        width, height = 160 + (i % 5) * 8, 120 - (i % 3) * 8
        pixels = rng.integers(0, 255, size=(height // 4, width // 4, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).resize((width, height))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        data = buffer.getvalue()
        name = f"split{i % 4}/img {i:05d}.jpg"
        sha = store.put(data)
        path = folder / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append((name, sha, width, height))
    return rows


def child(fmt: str, manifest: Path, store_root: Path, out: Path) -> None:
    """Export ``manifest``'s images in ``fmt`` with images to ``out``; print timings and RSS."""
    from app.annotations import AnnotationSpec
    from app.exports import ExportItem, export
    from app.images.store import LocalImageStore

    rows = json.loads(manifest.read_text())
    spec = AnnotationSpec.model_validate({"type": "bbox", "labels": ["car", "person"]})
    store = LocalImageStore(store_root)
    items = [
        ExportItem(
            f"tsk_{i}",
            name,
            width,
            height,
            {"objects": [{"label": "car", "box": [10.5, 12.0, 40.0, 30.25]}]},
            0.9,
            3,
            None,
            sha,
        )
        for i, (name, sha, width, height) in enumerate(rows)
    ]
    idle_kb = _rss_kb()
    cpu0, start = time.process_time(), time.perf_counter()
    result = export(fmt, spec, iter(items), images=lambda item: store.get(item.image_sha256 or ""))
    size = 0
    with out.open("wb") as sink:
        for chunk in result.chunks:
            sink.write(chunk)
            size += len(chunk)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"wall": wall, "cpu": cpu, "bytes": size, "idle_kb": idle_kb, "peak_kb": peak_kb}
        )
    )


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_export(fmt: str, manifest: Path, store: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", fmt, str(manifest), str(store), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_zip(files: Path, out: Path, *, stored: bool) -> dict[str, float]:
    """``zip -r`` in a child Python that waits for it, so ``ru_maxrss`` is zip's alone."""
    out.unlink(missing_ok=True)
    command = ["zip", "-r", "-q", *(["-0"] if stored else []), str(out), "."]
    script = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"subprocess.run({command!r}, cwd={str(files)!r}, check=True)\n"
        "w = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall': w, 'cpu': u.ru_utime + u.ru_stime, 'peak_kb': u.ru_maxrss}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    result = dict(json.loads(done.stdout))
    result["bytes"] = out.stat().st_size
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tessera-exports-bench-"))
    try:
        started = time.perf_counter()
        rows = make_images(args.images, work)
        total = sum((work / "files" / name).stat().st_size for name, *_ in rows)
        print(
            f"{args.images} images, {total / 1e6:.1f} MB of JPEG, generated in "
            f"{time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}"
        )
        manifest = work / "manifest.json"
        manifest.write_text(json.dumps(rows))
        small = work / "small.json"
        small.write_text(json.dumps(rows[: max(1, args.images // 10)]))
        results: dict[str, list[dict[str, float]]] = {}
        variants = ["coco", "yolo", "zip -r", "zip -r -0"]
        for round_number in range(args.rounds):
            order = variants[round_number % 4 :] + variants[: round_number % 4]
            for variant in order:
                out = work / "out.zip"
                if variant.startswith("zip"):
                    result = run_zip(work / "files", out, stored=variant.endswith("-0"))
                else:
                    result = run_export(variant, manifest, work / "store", out)
                results.setdefault(variant, []).append(result)
                out.unlink(missing_ok=True)
            for fmt in ("coco", "yolo"):
                result = run_export(fmt, small, work / "store", work / "out.zip")
                results.setdefault(f"{fmt} ({len(rows) // 10} images)", []).append(result)
        print(
            "| variant | wall s | CPU s | zip MB | MB/s (wall) | peak RSS MB | idle RSS MB "
            "| peak - idle MB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for variant, runs in results.items():
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            size = statistics.median(r["bytes"] for r in runs) / 1e6
            peak = statistics.median(r["peak_kb"] for r in runs) / 1024
            idle = statistics.median(r.get("idle_kb", 0) for r in runs) / 1024
            extra = f"{peak - idle:.0f}" if idle else "–"
            idle_text = f"{idle:.0f}" if idle else "–"
            print(
                f"| {variant} | {wall:.2f} | {cpu:.2f} | {size:.0f} | {size / wall:.0f} "
                f"| {peak:.0f} | {idle_text} | {extra} |"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
