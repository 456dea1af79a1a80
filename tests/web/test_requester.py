"""The requester's and the operator's pages in Chromium: a bbox project made with the form,
gold drawn with the workers' tool, a folder upload with a corrupt file and a duplicate, the cost
and a deposit before launch, a dashboard that updates itself while simulated workers answer,
the gallery (filter, overlay pixels where the API says, reject, appeal, bonus), COCO opened with
pycocotools; the operator's fee change with its audit trail, a ban from the table that ends the
worker's leases, the charts; and no requester sees another's data."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from app.accounts import service as account_service
from app.core.clock import utc_now
from app.models import Role
from tests.web.conftest import PASSWORD, LiveServer, image_bytes, screenshot

CAR = (230, 57, 70)  # the first label's colour (web/src/tools/base.ts PALETTE)


def sign_up_requester(page: Any, email: str = "rita@example.com", name: str = "Rita") -> None:
    page.goto("/signup")
    page.select_option("select[name=role]", "requester")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-form=signup] button[type=submit]")
    page.wait_for_selector("h1:has-text('Your projects')")


def sign_in(page: Any, email: str) -> None:
    page.goto("/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-form=signin] button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url)
    page.wait_for_selector("nav.top a[href='/account']")


def image_folder(tmp: Path, n: int = 30) -> Path:
    """`n` files: n - 2 distinct images, one corrupt file and one duplicate."""
    folder = tmp / "street"
    folder.mkdir()
    for i in range(n - 2):
        (folder / f"img{i:02d}.png").write_bytes(
            image_bytes(200, 150, (20 + 7 * i, 120, 200 - 5 * i))
        )
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    (folder / "copy_of_img00.png").write_bytes((folder / "img00.png").read_bytes())
    return folder


def draw_on(page: Any, hook: str, a: tuple[float, float], b: tuple[float, float]) -> None:
    """Drag from image pixel a to b on the stage of ``window[hook].viewer()``."""

    def screen(x: float, y: float) -> tuple[float, float]:
        return tuple(
            page.evaluate(
                """([hook, x, y]) => { const v = window[hook].viewer();
                   const box = v.container.getBoundingClientRect();
                   const t = v.stage.getAbsoluteTransform().point({x, y});
                   return [box.left + t.x, box.top + t.y]; }""",
                [hook, x, y],
            )
        )

    page.mouse.move(*screen(*a))
    page.mouse.down()
    page.mouse.move(*screen(*b), steps=8)
    page.mouse.up()


def answer_all(
    server: LiveServer, project_id: str, workers: list[str], boxes: list[list[int]], off: int = 0
) -> None:
    """Each worker answers every task it can get with its own box; the second worker's first
    ``off`` answers are somewhere else (those tasks end with a low confidence)."""
    for w, (key, box) in enumerate(zip(workers, boxes, strict=True)):
        with server.api(key) as api:
            n = 0
            while True:
                r = api.post(f"/v1/projects/{project_id}/assignments")
                if r.status_code == 204:
                    break
                assert r.status_code == 201, r.text
                lease = r.json()
                where = [130, 90, 60, 50] if w == 1 and n < off else box
                n += 1
                answer = {"objects": [{"label": "car", "box": where}]}
                r = api.post(f"/v1/assignments/{lease['id']}/submit", json={"answer": answer})
                assert r.status_code == 200, r.text


def new_worker(server: LiveServer, name: str) -> tuple[str, str]:
    with server.api() as anon:
        body = anon.post("/v1/accounts", json={"role": "worker", "name": name}).json()
    return body["id"], body["api_key"]


def requester_with_password(server: LiveServer, email: str = "rita@example.com") -> str:
    """A requester who can sign in to the web app; its API key."""
    body = {"role": "requester", "name": "Rita", "email": email, "password": PASSWORD}
    with server.api() as anon:
        r = anon.post("/v1/accounts", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["api_key"])


def gallery_batches(
    server: LiveServer,
    cases: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]],
    size: tuple[int, int] = (200, 150),
) -> tuple[str, dict[str, str]]:
    """Per case a launched batch of two images in a project of its own (overlap 2), each image
    answered by one worker per answer given; the requester's key and the batch of each case."""
    import base64

    key = requester_with_password(server)
    batches: dict[str, str] = {}
    with server.api(key) as api:
        api.post("/v1/deposits", json={"amount": "20"})
        for kind, (annotation, answers) in cases.items():
            body = {
                "name": kind,
                "annotation": annotation,
                "reward": "0.05",
                "overlap": {"min": 2, "max": 2},
                "gold_rate": 0,
            }
            project = api.post("/v1/projects", json=body).json()
            images = [
                {
                    "name": f"{kind}{i}.png",
                    "data_base64": base64.b64encode(
                        image_bytes(*size, (90, 140 + i, 200))
                    ).decode(),
                }
                for i in range(2)
            ]
            batch = api.post(f"/v1/projects/{project['id']}/batches", json={"images": images})
            batch_id = batch.json()["id"]
            assert api.post(f"/v1/batches/{batch_id}/launch").status_code == 200
            batches[kind] = batch_id
            for i, answer in enumerate(answers):
                _, wkey = new_worker(server, f"{kind}-{i}")
                with server.api(wkey) as wapi:
                    while (
                        lease := wapi.post(f"/v1/projects/{project['id']}/assignments")
                    ).status_code == 201:
                        r = wapi.post(
                            f"/v1/assignments/{lease.json()['id']}/submit", json={"answer": answer}
                        )
                        assert r.status_code == 200, r.text
    return key, batches


def test_requester_posts_watches_and_reviews_a_batch(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    sign_up_requester(page)
    # The project form, with the live preview of the worker's page.
    page.click("a:has-text('New project')")
    page.fill("input[name=name]", "Street cars")
    page.select_option("select[name=type]", "bbox")
    page.fill("textarea[name=instructions]", "Box every car.\n\nTight boxes.")
    page.fill("textarea[name=labels]", "car\ncar")
    page.wait_for_selector(".field.invalid [data-error-for=labels]:has-text('different')")
    page.fill("textarea[name=labels]", "car\nperson")
    page.fill("input[name=overlap_min]", "2")
    page.fill("input[name=overlap_max]", "2")
    page.fill("input[name=gold_rate]", "0")
    # Durations are seconds in the API; the form reads them out as well.
    assert page.locator("[data-duration-for=auto_accept_s]").inner_text() == "3 days"
    page.fill("input[name=assignment_duration_s]", "5400")
    assert page.locator("[data-duration-for=assignment_duration_s]").inner_text() == "1 h 30 min"
    page.wait_for_selector("[data-preview] button.label[data-label=person]")
    # The preview is the worker's page, its edit bar included.
    assert page.locator("[data-preview] [data-action=undo]").is_visible()
    assert page.locator("[data-preview] .prompt").inner_text().endswith("Box every car.")
    page.click("form[data-form=project] button[type=submit]")
    page.wait_for_selector("[data-project] h1:has-text('Street cars')")
    project_id = page.get_attribute("section[data-project]", "data-project")

    # Gold, drawn with the workers' box tool.
    gold = tmp_path / "gold.png"
    gold.write_bytes(image_bytes(200, 150))
    # No empty editor before an image is chosen, nor after a gold task is saved.
    assert page.locator("[data-action=save-gold]").is_hidden()
    page.set_input_files("input[data-input=gold]", str(gold))
    page.wait_for_function("() => window.__gold && window.__gold.viewer()")
    draw_on(page, "__gold", (40, 38), (110, 105))
    drawn = page.evaluate("window.__gold.answer()")
    assert drawn["objects"][0]["label"] == "car"
    page.click("[data-action=save-gold]")
    page.wait_for_selector("[data-gold-count='1']")
    assert page.locator("[data-action=save-gold]").is_hidden()

    assert page.locator("progress.overall").is_hidden()  # no progress bar before an upload
    # A folder of 30: one corrupt, one duplicate, both reported with why.
    # The upload goes in chunks; the response to the second is lost (the server did the work):
    # the page sends it again and nothing is stored twice.
    lost: list[str] = []

    def lose_first_response(route: Any) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.request.url)  # before fetch: chunks go in parallel
        route.fetch()
        route.abort()

    page.route("**/v1/batches/*/images*", lose_first_response)
    folder = image_folder(tmp_path)
    page.set_input_files("input[data-input=folder]", str(folder))
    page.wait_for_selector("[data-upload-result] [data-report]")
    assert page.locator("[data-upload-result] tr[data-state=skipped]").count() == 1
    assert "broken.png" in page.locator("[data-upload-result] tr[data-state=skipped]").inner_text()
    dup = page.locator("[data-upload-result] tr[data-state=duplicate]").inner_text()
    assert "copy_of_img00.png" in dup
    assert "img00.png" in dup
    assert page.locator("progress.overall").evaluate("p => p.value") == 1
    assert len(lost) == 1
    assert page.locator("[data-upload-result] tr[data-state=added]").count() == 28

    # The cost, the balance, the deposit, the launch.
    batch = page.locator("article.batch[data-status=draft]")
    cost = batch.locator("[data-cost]").get_attribute("data-cost")
    assert float(cost) == 28 * 2 * 0.022  # 28 tasks × 2 answers × (0.02 + 10% fee)
    assert batch.locator("[data-balance]").get_attribute("data-balance") == "0"
    batch.locator("[data-short] form[data-form=deposit] input[name=amount]").fill("5")
    batch.locator("[data-short] form[data-form=deposit] button").click()
    page.wait_for_selector(
        "article.batch[data-status=draft] [data-balance]:not([data-balance='0'])"
    )
    page.locator("article.batch[data-status=draft] [data-action=launch]").click()
    page.wait_for_selector("article.batch[data-status=open]")
    batch_id = page.get_attribute("article.batch[data-status=open]", "data-batch")

    # The dashboard updates itself while workers answer through the API.
    # Its figures come aggregated from GET /v1/batches/{id}/stats, never from the results pages.
    reads: list[str] = []
    page.on("request", lambda r: reads.append(urlsplit(r.url).path))
    page.goto(f"/batches/{batch_id}?poll=600")
    page.wait_for_selector("[data-fact=completed]:has-text('0 / 28')")
    (w1, k1), (w2, k2), (_w3, k3) = (new_worker(live_server, n) for n in ("Ann", "Bob", "Cid"))
    answer_all(live_server, project_id, [k1, k2], [[40, 38, 70, 67], [41, 39, 69, 66]], off=3)
    answer_all(live_server, project_id, [k3], [[120, 20, 60, 40]])
    page.wait_for_selector("[data-fact=completed]:has-text('28 / 28')", timeout=15_000)
    assert page.locator("svg[data-chart=completions] path[data-series]").count() == 1
    assert page.locator("svg[data-chart=confidence] rect[data-value]").count() == 10
    bars = page.locator("svg[data-chart=answers-per-task] rect[data-value]")
    assert sum(float(v) for v in bars.evaluate_all("rs => rs.map(r => r.dataset.value)")) == 28
    assert f"/v1/batches/{batch_id}/stats" in reads
    assert not [p for p in reads if p.endswith("/results")], reads
    screenshot(page, "requester-dashboard")

    # The gallery: filtered to low confidence, the three tasks Bob put elsewhere.
    page.goto(f"/batches/{batch_id}/results")
    page.wait_for_function("() => window.__gallery && window.__gallery.items().length === 28")
    # The screenshot once the thumbnails in view are decoded (they load lazily).
    page.wait_for_function(
        "() => [...document.querySelectorAll('article.tile img')].slice(0, 10)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    screenshot(page, "requester-gallery-boxes")
    page.fill("input[name=max_confidence]", "0.6")
    page.click("form[data-form=filters] button[type=submit]")
    page.wait_for_function(
        "() => !window.__gallery.loading() && window.__gallery.items().length === 3"
    )
    low = page.evaluate("window.__gallery.items().map(i => i.confidence)")
    assert all(c <= 0.6 for c in low)
    page.fill("input[name=max_confidence]", "")
    page.click("form[data-form=filters] button[type=submit]")
    page.wait_for_function(
        "() => !window.__gallery.loading() && window.__gallery.items().length === 28"
    )
    with live_server.api(k1) as api:
        mine = api.get("/v1/me/assignments").json()["items"]
    target = mine[0]
    tile = page.locator(f"article.tile[data-task='{target['task_id']}']")
    tile.click()
    detail = page.locator(f"[data-detail='{target['task_id']}']")
    detail.wait_for()
    rect = detail.locator(f"g[data-who='{w1}'] rect")
    assert [float(rect.get_attribute(a)) for a in ("x", "y", "width", "height")] == [40, 38, 70, 67]
    # Pixel check: with the consensus hidden, Ann's dashed box edge is drawn in the car colour
    # at the place the API gives, and not inside the box.
    detail.locator("input[name=detail-consensus]").uncheck()
    detail.locator(f"tr[data-worker='{w2}'] input[type=checkbox]").uncheck()
    svg_el = detail.locator("svg.overlay-layer")
    left_edge = svg_el.evaluate(
        """(s) => { const m = s.getScreenCTM(); const pts = [];
           for (let y = 40; y < 100; y += 1) pts.push([m.a * 40 + m.e, m.d * y + m.f]);
           return pts; }"""
    )
    inside = svg_el.evaluate(
        "(s) => { const m = s.getScreenCTM(); return [m.a * 75 + m.e, m.d * 70 + m.f]; }"
    )
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    near = lambda c: all(abs(a - b) < 40 for a, b in zip(c, CAR, strict=True))  # noqa: E731
    hits = sum(
        any(near(shot.getpixel((round(x) + dx, round(y)))) for dx in (-1, 0, 1))
        for x, y in left_edge
    )
    assert hits >= 15, hits  # a dashed line: about 60% of the edge is drawn
    assert not near(shot.getpixel((round(inside[0]), round(inside[1]))))

    # Reject with a reason: the worker's history shows it.
    row = detail.locator(f"tr[data-worker='{w1}']")
    row.locator("input[name=reason]").fill("the box misses the bumper")
    row.locator("[data-action=reject]").click()
    page.wait_for_selector(".modal-backdrop", state="detached")
    with live_server.api(k1) as api:
        h = {a["id"]: a for a in api.get("/v1/me/assignments").json()["items"]}[target["id"]]
        assert (h["status"], h["reason"]) == ("rejected", "the box misses the bumper")
        r = api.post(f"/v1/assignments/{target['id']}/appeal", json={"message": "it is tight"})
        assert r.status_code == 200, r.text
    # The appeal, found with the verdict filter, granted from the gallery; and a bonus.
    page.select_option("select[name=verdict]", "appealed")
    page.click("form[data-form=filters] button[type=submit]")
    page.wait_for_function(
        "() => !window.__gallery.loading() && window.__gallery.items().length === 1"
    )
    page.locator("article.tile").first.click()
    row = page.locator(f"[data-detail] tr[data-worker='{w1}']")
    assert "it is tight" in row.inner_text()
    row.locator("[data-action=grant]").click()
    page.wait_for_selector(".modal-backdrop", state="detached")
    page.select_option("select[name=verdict]", "")
    page.click("form[data-form=filters] button[type=submit]")
    page.wait_for_function(
        "() => !window.__gallery.loading() && window.__gallery.items().length === 28"
    )
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    row = page.locator(f"[data-detail] tr[data-worker='{w2}']")
    row.locator("input[name=bonus]").fill("0.25")
    row.locator("[data-action=bonus]").click()
    page.wait_for_selector(".notice.visible:has-text('Bonus sent')")
    page.keyboard.press("Escape")
    with live_server.api(k1) as api:
        h = {a["id"]: a for a in api.get("/v1/me/assignments").json()["items"]}[target["id"]]
        assert (h["status"], h["appeal_outcome"]) == ("accepted", "granted")
    with live_server.api(k2) as api:
        assert float(api.get("/v1/me").json()["balance"]["pending"]) >= 0.25

    # COCO, downloaded with one click, opens with pycocotools.
    from pycocotools.coco import COCO

    with page.expect_download() as info:
        page.click("a[data-format=coco]")
    path = tmp_path / "coco.json"
    info.value.save_as(path)
    coco = COCO(str(path))
    assert len(coco.getImgIds()) == 28
    results = page.evaluate(
        f"fetch('/v1/batches/{batch_id}/results?limit=500').then(r => r.json())"
    )["items"]
    assert len(coco.getAnnIds()) == sum(len(i["answer"]["objects"]) for i in results)


def test_operator_fee_audit_ban_and_charts(page: Any, live_server: LiveServer) -> None:
    with live_server.app.state.sessionmaker() as session:
        account_service.create_account(
            session,
            role=Role.operator,
            name="Olga",
            now=utc_now(),
            email="olga@example.com",
            password=PASSWORD,
        )
    # Some market activity: a batch, a worker holding a lease, another answering.
    from tests.web.conftest import seed_project

    seeded = seed_project(
        live_server, {"type": "classification", "labels": ["cat", "dog"]}, n_images=3
    )
    wid, wkey = new_worker(live_server, "Wes")
    _, akey = new_worker(live_server, "Abe")
    with live_server.api(akey) as api:
        lease = api.post(f"/v1/projects/{seeded.project['id']}/assignments").json()
        api.post(f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "cat"}})
    with live_server.api(wkey) as api:
        held = api.post(f"/v1/projects/{seeded.project['id']}/assignments").json()
    sign_in(page, "olga@example.com")
    page.wait_for_selector("svg[data-chart=throughput] path[data-series]")
    assert page.locator("[data-total=answers_per_minute]").inner_text() != "0.00"
    page.wait_for_selector("[data-verify] [data-ok]")
    assert page.get_attribute("[data-verify] [data-ok]", "data-ok") == "true"
    screenshot(page, "operator-market")
    # The fee, with what it affects, and the audit trail.
    page.click("nav.top a:has-text('Settings')")
    page.wait_for_selector("input[name=platform_fee]")
    page.fill("input[name=platform_fee]", "0.15")
    page.click("form[data-form=settings] button[type=submit]")
    assert "batches launched from now on" in page.locator(".modal").inner_text()
    page.click("[data-confirm=yes]")
    page.wait_for_selector("[data-table=audit] tr[data-change=platform_fee]")
    trail = page.locator("[data-table=audit] tr[data-change=platform_fee]").inner_text()
    assert "Olga" in trail
    assert "0.1" in trail
    assert "0.15" in trail
    # A ban from the table ends the worker's lease.
    page.click("nav.top a:has-text('Workers')")
    row = page.locator(f"tr[data-worker='{wid}']")
    row.locator("input[name=reason]").fill("bot-like answers")
    row.locator("[data-action=ban]").click()
    page.click("[data-confirm=yes]")
    page.wait_for_selector(f"tr[data-worker='{wid}'][data-banned=true]")
    with live_server.api(wkey) as api:
        r = api.post(f"/v1/assignments/{held['id']}/submit", json={"answer": {"label": "cat"}})
        assert r.status_code in (403, 409), r.text
        statuses = {a["id"]: a["status"] for a in api.get("/v1/me/assignments").json()["items"]}
        assert statuses[held["id"]] != "leased"


def test_a_requester_never_sees_anothers_data(page: Any, live_server: LiveServer) -> None:
    from tests.web.conftest import seed_project

    other = seed_project(
        live_server, {"type": "bbox", "labels": ["car"]}, n_images=1, name="Secret"
    )
    sign_up_requester(page, "mia@example.com", "Mia")
    assert page.locator("[data-project]").count() == 0
    assert "Secret" not in page.content()
    for path in (
        f"/projects/{other.project['id']}",
        f"/batches/{other.batch['id']}",
        f"/batches/{other.batch['id']}/results",
    ):
        page.goto(path)
        page.wait_for_selector(".error[role=alert]")
        assert "Secret" not in page.content()
        assert "Not found" in page.locator(".error").first.inner_text()


def _mask(width: int, height: int, box: tuple[int, int, int, int]) -> str:
    import base64

    from PIL import ImageDraw

    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).ellipse(box, fill=1)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_gallery_draws_polygons_masks_and_keypoints(page: Any, live_server: LiveServer) -> None:

    w, h = 200, 150
    cases: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str]] = {
        "polygon": (
            {"type": "polygon", "labels": ["roof"]},
            [
                {
                    "objects": [
                        {"label": "roof", "points": [[40, 38], [110, 38], [110, 105], [40, 105]]}
                    ]
                },
                {
                    "objects": [
                        {"label": "roof", "points": [[42, 40], [108, 36], [112, 104], [38, 103]]}
                    ]
                },
            ],
            "polygon",
        ),
        "segmentation": (
            {"type": "segmentation", "labels": ["sun"]},
            [
                {"mask_png_base64": _mask(w, h, (20, 100, 90, 145))},
                {"mask_png_base64": _mask(w, h, (24, 98, 94, 146))},
            ],
            "image",
        ),
        "keypoints": (
            {
                "type": "keypoints",
                "labels": ["face"],
                "keypoints": ["left", "right", "nose"],
                "skeleton": [[0, 2], [1, 2]],
            },
            [
                {
                    "objects": [
                        {"label": "face", "points": [[60, 50, 2], [100, 50, 2], [80, 80, 2]]}
                    ]
                },
                {"objects": [{"label": "face", "points": [[62, 52, 2], [98, 49, 2], [81, 78, 1]]}]},
            ],
            "circle",
        ),
    }
    _, batches = gallery_batches(
        live_server, {kind: (spec, answers) for kind, (spec, answers, _) in cases.items()}, (w, h)
    )
    sign_in(page, "rita@example.com")
    for kind, (_, _, element) in cases.items():
        page.goto(f"/batches/{batches[kind]}/results")
        page.wait_for_function("() => window.__gallery && window.__gallery.items().length === 2")
        # Both workers and the consensus are drawn on each tile.
        tile = page.locator("article.tile").first
        assert tile.locator(f"g[data-who=consensus] {element}").count() >= 1
        assert tile.locator(f"g.overlay:not([data-who=consensus]) {element}").count() >= 2
        tile.click()
        page.wait_for_selector("[data-detail] svg.overlay-layer")
        page.wait_for_timeout(200)  # the full-size image decodes
        screenshot(page, f"requester-gallery-{kind}")
        page.keyboard.press("Escape")


def test_gallery_writes_the_consensus_label_on_class_tiles(
    page: Any, live_server: LiveServer
) -> None:
    """Classification and multi-label have no shapes to draw: each tile says its answer."""
    cases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "classification": ({"type": "classification", "labels": ["cat", "dog"]}, {"label": "dog"}),
        "multilabel": (
            {"type": "multilabel", "labels": ["red", "round", "shiny"]},
            {"labels": ["red", "shiny"]},
        ),
    }
    key, batches = gallery_batches(
        live_server, {kind: (spec, [answer, answer]) for kind, (spec, answer) in cases.items()}
    )
    sign_in(page, "rita@example.com")
    for kind, text in (("classification", "dog"), ("multilabel", "red, shiny")):
        page.goto(f"/batches/{batches[kind]}/results")
        page.wait_for_function("() => window.__gallery && window.__gallery.items().length === 2")
        labels = page.locator("article.tile .figure-label")
        assert labels.all_inner_texts() == [text, text], kind
        # Downloads: JSON, then what the project's type exports (no COCO for classes).
        with live_server.api(key) as api:
            batch = api.get(f"/v1/batches/{batches[kind]}").json()
            formats = api.get(f"/v1/projects/{batch['project_id']}").json()["export_formats"]
        shown = page.locator("[data-format]").evaluate_all("els => els.map(e => e.dataset.format)")
        assert shown == ["json", *formats]
        assert "coco" not in shown
        screenshot(page, f"requester-gallery-{kind}")
        page.locator("input[name=show-consensus]").uncheck()  # hidden with the consensus
        assert page.locator("article.tile .figure-label").count() == 0


def test_a_draft_batch_dashboard_says_it_is_a_draft_until_launched(
    page: Any, live_server: LiveServer
) -> None:
    import base64

    key = requester_with_password(live_server)
    with live_server.api(key) as api:
        api.post("/v1/deposits", json={"amount": "5"})
        project = api.post(
            "/v1/projects",
            json={"name": "Pets", "annotation": {"type": "classification", "labels": ["cat"]}},
        ).json()
        image = {"name": "a.png", "data_base64": base64.b64encode(image_bytes(40, 30)).decode()}
        batch = api.post(f"/v1/projects/{project['id']}/batches", json={"images": [image]}).json()
        sign_in(page, "rita@example.com")
        page.goto(f"/batches/{batch['id']}")
        draft = page.locator("[data-state=draft]")
        draft.wait_for()
        assert draft.locator("a").get_attribute("href") == f"/projects/{project['id']}"
        assert api.post(f"/v1/batches/{batch['id']}/launch").status_code == 200
    page.wait_for_selector("[data-status=open]")  # the dashboard's next poll
    assert draft.count() == 0
