"""The image viewer on a big photo: shown whole from a downscaled copy, at full resolution once
zoomed in past it, and zooming keeps the image pixel under the pointer where it was."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import LiveServer, open_task, seed_project, sign_up, to_screen

LEVEL = "() => window.__tessera.viewer().picture.image().constructor.name"
UNDER = """([x, y]) => {
    const v = window.__tessera.viewer();
    const box = v.container.getBoundingClientRect();
    const p = v.stage.getAbsoluteTransform().copy().invert().point({x: x - box.left, y: y - box.top});
    return [p.x, p.y];
}"""


def test_a_big_image_is_drawn_from_a_copy_until_zoomed_in(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(live_server, {"type": "bbox", "labels": ["car"]}, size=(4000, 3000))
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.wait_for_function(f"() => ({LEVEL})() === 'HTMLCanvasElement'")
    x, y = (round(c) for c in to_screen(page, 2000, 1500))
    page.mouse.move(x, y)
    before = page.evaluate(UNDER, [x, y])
    for _ in range(6):  # zoom in around the pointer until the copy is too small to show
        page.mouse.wheel(0, -400)
    page.wait_for_function(f"() => ({LEVEL})() === 'HTMLImageElement'")
    assert page.evaluate("window.__tessera.viewer().scale") * 4000 > 2048
    after = page.evaluate(UNDER, [x, y])
    assert abs(after[0] - before[0]) <= 0.5
    assert abs(after[1] - before[1]) <= 0.5
