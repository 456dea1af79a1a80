""" "Outline from box" (O) in the browser: a dragged box goes to the server's box_to_polygon /
box_to_mask assist (docs/ASSIST.md); the polygon tool adds the outline as one editable, undoable
polygon, the mask tool merges the object into its label map as one undoable edit, and either is
submitted like a drawn answer."""

from __future__ import annotations

from typing import Any

from PIL import Image

from tests.web.conftest import LiveServer, drag, open_task, seed_project, sign_up
from tests.web.test_shapes import answer_of, decoded, submit_and_wait

# seed_project's images (400×300) hold a filled yellow rectangle at x 80-220, y 75-210 on a
# plain blue background (conftest.image_bytes), and a red ellipse right of it (x ≥ 240).
OBJECT = (80.0, 75.0, 220.0, 210.0)


def bounds(points: list[list[float]]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def outline_around_the_rectangle(page: Any) -> list[dict[str, Any]]:
    drag(page, (62, 58), (236, 226))
    page.wait_for_function("() => window.__tessera.answer().objects.length === 1")
    return list(page.evaluate("window.__tessera.answer()")["objects"])


def test_outline_from_box_adds_one_undoable_polygon(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "polygon", "labels": ["crate", "sign"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.keyboard.press("2")  # the label the outline gets
    page.keyboard.press("o")
    assert page.locator("[data-action=outline-from-box]").get_attribute("aria-pressed") == "true"

    drag(page, (300, 220), (390, 290))  # plain background: the server finds nothing…
    page.wait_for_function(
        "() => !document.querySelector('.notice').textContent.startsWith('Finding')"
    )
    notice = page.locator(".notice").inner_text()
    assert notice.startswith("GrabCut found no object inside the box"), notice  # its words
    assert page.evaluate("window.__tessera.answer()")["objects"] == []  # …and nothing changes

    objects = outline_around_the_rectangle(page)
    assert objects[0]["label"] == "sign"
    got = bounds(objects[0]["points"])
    assert all(abs(g - e) <= 5 for g, e in zip(got, OBJECT, strict=True)), got
    page.keyboard.press("Control+z")  # one undo step takes the whole outline away
    assert page.evaluate("window.__tessera.answer()")["objects"] == []

    objects = outline_around_the_rectangle(page)  # still in outline mode: drag again
    assignment = submit_and_wait(page)
    stored = answer_of(live_server, seeded, assignment)["objects"]
    assert len(stored) == 1
    assert stored[0]["label"] == "sign"
    assert stored[0]["points"] == objects[0]["points"]


def test_outline_from_box_fills_the_mask_with_the_label(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "segmentation", "labels": ["road", "crate"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.keyboard.press("2")
    page.keyboard.press("o")
    empty = "() => window.__tessera.answer().mask_png_base64"
    blank = page.evaluate(empty)

    def fill_the_rectangle() -> Image.Image:
        drag(page, (62, 58), (236, 226))
        page.wait_for_function(f"(blank) => ({empty})() !== blank", arg=blank)
        return decoded(page.evaluate("window.__tessera.answer()"))

    mask = fill_the_rectangle()
    assert set(mask.tobytes()) == {0, 2}  # the label's value (index + 1) on the object
    x0, y0, x1, y1 = mask.getbbox() or (0, 0, 0, 0)
    got = (x0, y0, x1 - 1, y1 - 1)
    assert all(abs(g - e) <= 5 for g, e in zip(got, OBJECT, strict=True)), got
    page.keyboard.press("Control+z")  # one undo step empties it again
    assert page.evaluate(empty) == blank

    mask = fill_the_rectangle()
    assignment = submit_and_wait(page)
    stored = decoded(answer_of(live_server, seeded, assignment))
    assert stored.tobytes() == mask.tobytes()
