"""A batch from a pasted list of image URLs: lines that are no URL or repeat one are refused
before sending; the server downloads the rest in the background (the reconciler, run here by
the test) and the page's report follows: added, refused with the server's reason, duplicate."""

from __future__ import annotations

from typing import Any

import httpx

from app.images import ImageLimits, fetch_image
from tests.web.conftest import PASSWORD, LiveServer, image_bytes, screenshot
from tests.web.test_requester import sign_in
from workers.images import FetchImages
from workers.runner import run_pass


def test_a_pasted_url_list_makes_a_batch_with_a_report_per_url(
    page: Any, live_server: LiveServer
) -> None:
    cat = image_bytes(200, 150)
    served = {"/cat.png": cat, "/dog.png": cat, "/nope.png": b"<html>not found</html>"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served[request.url.path])

    def fetcher(url: str, limits: ImageLimits) -> bytes:
        with httpx.Client(transport=httpx.MockTransport(handler)) as mock:
            return fetch_image(url, limits, client=mock, resolver=lambda host: ["93.184.216.34"])

    live_server.app.state.url_resolver = lambda host: ["93.184.216.34"]
    with live_server.api() as anon:
        body = {"role": "requester", "name": "Rita", "email": "rita@example.com",
                "password": PASSWORD}  # fmt: skip
        key = anon.post("/v1/accounts", json=body).json()["api_key"]
    with live_server.api(key) as api:
        spec = {"type": "bbox", "labels": ["car"]}
        project = api.post("/v1/projects", json={"name": "Pasted", "annotation": spec}).json()
    sign_in(page, "rita@example.com")
    page.goto(f"/projects/{project['id']}")
    base = "https://images.example.com"
    page.fill(
        "form[data-form=urls] textarea[name=urls]",
        f"{base}/cat.png\n\n{base}/nope.png\nnot a url\n{base}/cat.png\n{base}/dog.png\n",
    )
    page.click("[data-action=upload-urls]")
    report = page.locator("[data-url-result] [data-report]")
    report.and_(page.locator("[data-fetching='3']")).wait_for()

    def row(name: str) -> Any:  # the row of the URL sent (not the "listed twice" one)
        return report.locator(f"tr[data-file='{name}']").filter(has_not_text="listed twice")

    assert row(f"{base}/cat.png").get_attribute("data-state") == "fetching"
    assert "not an http or https URL" in row("not a url").inner_text()
    assert row("not a url").get_attribute("data-state") == "skipped"
    assert "listed twice" in report.locator("tr[data-state=duplicate]").inner_text()

    store = live_server.app.state.image_store
    done = run_pass(
        live_server.app.state.sessionmaker, [FetchImages(store, ImageLimits(), fetcher)]
    )
    assert done["images.fetch"] == 3
    report.and_(page.locator("[data-fetching='0']")).wait_for()
    # cat and dog are the same bytes: whichever was downloaded second is the duplicate.
    states = sorted(row(f"{base}/{n}.png").get_attribute("data-state") for n in ("cat", "dog"))
    assert states == ["added", "duplicate"]
    assert row(f"{base}/nope.png").get_attribute("data-state") == "skipped"
    assert row(f"{base}/nope.png").locator("td.reason").inner_text().strip() != ""
    page.wait_for_selector("article.batch[data-status=draft] h3:has-text('Batch of 1 images')")
    screenshot(page, "requester-url-list")
