"""Browser tests: Debian's Chromium driven by Playwright, against a real ``tessera serve`` app.

One browser per test process; each test gets its own server (uvicorn in a thread, on a free
port, on the test's own database) and a fresh browser context in which every request to any
host but that server is blocked and recorded: the test fails if the app tried one.
The server's clock is the real one plus an offset the test can move (expired leases).
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from PIL import Image

from app.core.config import Settings
from app.main import create_app
from app.web.router import DEFAULT_WEB_DIR

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a long enough password"


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return "needs Debian's chromium (apt-get install chromium)"
    if not (DEFAULT_WEB_DIR / "index.html").exists():
        return "needs the built web app (scripts/setup builds web/)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"browser tests cannot run in CI: {reason}")
    for item in items:
        if "tests/web/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


class ShiftedClock:
    """The real clock plus an offset, so the server and the browser agree until a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class LiveServer:
    url: str
    clock: ShiftedClock
    app: Any

    def api(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    clock = ShiftedClock()
    app.state.clock = clock
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", clock, app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright gives a non-persistent browser a fresh user-data dir of its own.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@dataclass
class Guard:
    """Requests the page tried to make to any host but the test server."""

    blocked: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    yield from _guarded_page(browser, live_server, viewport={"width": 1280, "height": 860})


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page on a phone: 390x844 CSS px, a touch screen and no mouse to hover with."""
    yield from _guarded_page(
        browser,
        live_server,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )


def _guarded_page(browser: Any, live_server: LiveServer, **context_args: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, **context_args)
    guard = Guard()
    ours = urlsplit(live_server.url).netloc

    def route(r: Any) -> None:
        if urlsplit(r.request.url).netloc == ours or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            guard.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A CSP violation is only a console message: count it as an error too.
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.guard = guard
    yield page
    context.close()
    assert guard.blocked == [], f"the app tried to reach other hosts: {guard.blocked}"
    assert errors == [], f"uncaught errors in the page: {errors}"


# ---- data -----------------------------------------------------------------------------------


def image_bytes(width: int, height: int, color: tuple[int, int, int] = (90, 140, 200)) -> bytes:
    """A PNG with a few shapes, so a screenshot shows something to annotate."""
    img = Image.new("RGB", (width, height), color)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    draw.rectangle([width * 0.2, height * 0.25, width * 0.55, height * 0.7], fill=(230, 200, 60))
    draw.ellipse([width * 0.6, height * 0.2, width * 0.85, height * 0.6], fill=(200, 60, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Seeded:
    requester_key: str
    project: dict[str, Any]
    batch: dict[str, Any]


def seed_project(
    server: LiveServer,
    annotation: dict[str, Any],
    *,
    n_images: int = 2,
    size: tuple[int, int] = (400, 300),
    gold: list[dict[str, Any]] | None = None,
    pre_annotations: dict[str, Any] | None = None,
    instructions: str = "Annotate the image carefully.\n\nSee the **examples** below.",
    name: str = "Street scenes",
    **project: Any,
) -> Seeded:
    """A requester with a launched batch (and gold tasks, when given) in a new project."""
    with server.api() as anon:
        r = anon.post("/v1/accounts", json={"role": "requester", "name": "Rita"})
        key = r.json()["api_key"]
    with server.api(key) as api:
        body = {
            "name": name,
            "instructions": instructions,
            "annotation": annotation,
            "reward": "0.05",
            "overlap": {"min": 1, "max": 1},
            "gold_rate": 0.0,
            "qualification": {"gold_tasks": len(gold or []), "min_accuracy": 0.5},
            **project,
        }
        r = api.post("/v1/projects", json=body)
        assert r.status_code == 201, r.text
        prj = r.json()
        for i, answer in enumerate(gold or []):
            r = api.post(
                f"/v1/projects/{prj['id']}/gold",
                files={"file": (f"gold{i}.png", image_bytes(*size, (60 + i, 120, 90)))},
                data={"answer": json.dumps(answer)},
            )
            assert r.status_code == 201, r.text
        images = [
            {
                "name": f"img{i}.png",
                "data_base64": base64.b64encode(image_bytes(*size, (90, 140 + i, 200))).decode(),
            }
            for i in range(n_images)
        ]
        payload: dict[str, Any] = {"images": images}
        if pre_annotations:
            payload["pre_annotations"] = pre_annotations
        r = api.post(f"/v1/projects/{prj['id']}/batches", json=payload)
        assert r.status_code == 201, r.text
        batch = r.json()
        api.post("/v1/deposits", json={"amount": "50"}, headers={"Idempotency-Key": "seed"})
        r = api.post(f"/v1/batches/{batch['id']}/launch")
        assert r.status_code == 200, r.text
    return Seeded(key, prj, r.json())


def sign_up(page: Any, email: str = "will@example.com", name: str = "Will") -> None:
    page.goto("/signup")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-form=signup] button[type=submit]")
    page.wait_for_selector("h1:has-text('Find work')")


# The stage refits when its container is resized (a ResizeObserver, after layout), which can
# happen just after a task is shown; a person sees the image settle before clicking, so the tests
# wait until the view's transform and the container stay put over a few animation frames.
_SETTLED = """() => new Promise((resolve) => {
    const view = () => {
        const v = window.__tessera && window.__tessera.viewer();
        if (!v) return "";
        const r = v.container.getBoundingClientRect();
        return JSON.stringify([r.left, r.top, r.width, r.height, v.stage.getAbsoluteTransform().m]);
    };
    let last = view(), same = 0;
    const tick = () => {
        const now = view();
        same = now && now === last ? same + 1 : 0;
        last = now;
        if (same >= 3) resolve(true); else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""


def settle(page: Any) -> None:
    page.evaluate(_SETTLED)


def open_task(page: Any, project_id: str) -> None:
    page.goto(f"/work/{project_id}")
    page.wait_for_function("() => window.__tessera && window.__tessera.ready()")
    settle(page)


def wait_next_task(page: Any, previous_assignment: str) -> None:
    try:
        page.wait_for_function(
            "(prev) => window.__tessera && window.__tessera.ready() && "
            "window.__tessera.lease() && window.__tessera.lease().id !== prev && "
            "window.__tessera.pending() === 0",
            arg=previous_assignment,
        )
    except Exception as exc:  # say what the page shows instead of a bare timeout
        state = page.evaluate(
            "() => ({ready: window.__tessera && window.__tessera.ready(),"
            " pending: window.__tessera && window.__tessera.pending(),"
            " text: document.body.innerText.slice(0, 600)})"
        )
        raise AssertionError(f"the next task did not appear: {state}") from exc
    settle(page)


def to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Image pixel (x, y) → page coordinates, through the stage's transform."""
    return tuple(
        page.evaluate(
            """([x, y]) => {
                const v = window.__tessera.viewer();
                const box = v.container.getBoundingClientRect();
                const t = v.stage.getAbsoluteTransform().point({x, y});
                return [box.left + t.x, box.top + t.y];
            }""",
            [x, y],
        )
    )


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], steps: int = 8) -> None:
    page.mouse.move(*to_screen(page, *a))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *b), steps=steps)
    page.mouse.up()


def click(page: Any, x: float, y: float, **kw: Any) -> None:
    page.mouse.click(*to_screen(page, x, y), **kw)


def stored_answers(server: LiveServer, seeded: Seeded) -> list[dict[str, Any]]:
    with server.api(seeded.requester_key) as api:
        r = api.get(f"/v1/batches/{seeded.batch['id']}/results", params={"include": "answers"})
        assert r.status_code == 200, r.text
        return [a for item in r.json()["items"] for a in item.get("answers", [])]


def screenshot(page: Any, name: str) -> None:
    """Kept in docs/screenshots when TESSERA_SCREENSHOTS is set (so a normal run leaves the
    work tree clean); the page is drawn either way."""
    if not os.environ.get("TESSERA_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
