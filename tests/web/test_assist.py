""" "Outline from box" (O) in the browser: a dragged box goes to the server's box_to_polygon /
box_to_mask assist (docs/ASSIST.md); the polygon tool adds the outline as one editable, undoable
polygon, the mask tool merges the object into its label map as one undoable edit, and either is
submitted like a drawn answer. "Superpixel fill" (S, mask tool) fills the SLIC region under a click;
"Snap to edges" (S, polygon tool) moves clicked and dragged vertices to the nearest edge."""

from __future__ import annotations

from typing import Any

from PIL import Image

from tests.web.conftest import (
    LiveServer,
    click,
    drag,
    open_task,
    screenshot,
    seed_project,
    sign_up,
)
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


def near(p: list[float], q: tuple[float, float], tolerance: float) -> bool:
    return max(abs(p[0] - q[0]), abs(p[1] - q[1])) <= tolerance


def assist_done(page: Any, selector: str, state: str) -> None:
    """Wait until the panel's assist status reads `state` with no call left on its way."""
    page.wait_for_function(
        "([sel, state]) => { const el = document.querySelector(sel);"
        " return el && el.dataset.state === state && el.dataset.pending === '0'; }",
        arg=[selector, state],
    )


def test_superpixel_fill_fills_the_region_under_each_click(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(live_server, {"type": "segmentation", "labels": ["road", "crate"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.keyboard.press("2")
    page.keyboard.press("s")
    button = page.locator("button[data-mode=superpixel]")
    assert "active" in (button.get_attribute("class") or "")
    empty = "() => window.__tessera.answer().mask_png_base64"
    blank = page.evaluate(empty)

    click(page, 150.5, 140.5)  # inside the yellow rectangle (a pixel's centre)
    assist_done(page, ".assist-status", "filled")
    first = decoded(page.evaluate("window.__tessera.answer()"))
    assert set(first.tobytes()) == {0, 2}  # the current label's value, nothing else
    assert first.getpixel((150, 140)) == 2
    x0, y0, x1, y1 = first.getbbox() or (0, 0, 0, 0)
    # One superpixel: a small part of the rectangle, never spilling out of it.
    assert OBJECT[0] - 1 <= x0
    assert x1 <= OBJECT[2] + 2
    assert OBJECT[1] - 1 <= y0
    assert y1 <= OBJECT[3] + 2
    assert (x1 - x0) * (y1 - y0) < 0.5 * (OBJECT[2] - OBJECT[0]) * (OBJECT[3] - OBJECT[1])
    assert "px filled with crate" in page.locator(".assist-status").inner_text()

    click(page, 100.5, 190.5)  # a second region adds to the first
    assist_done(page, ".assist-status", "filled")
    two = decoded(page.evaluate("window.__tessera.answer()"))
    assert two.getpixel((100, 190)) == 2
    assert two.getpixel((150, 140)) == 2
    screenshot(page, "assist-superpixel")

    page.keyboard.down("Shift")  # Shift+click clears that region again
    click(page, 100.5, 190.5)
    page.keyboard.up("Shift")
    assist_done(page, ".assist-status", "filled")
    assert decoded(page.evaluate("window.__tessera.answer()")).tobytes() == first.tobytes()
    page.keyboard.press("Control+z")  # one undo step per click: the cleared region is back
    assert decoded(page.evaluate("window.__tessera.answer()")).tobytes() == two.tobytes()
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert page.evaluate(empty) == blank

    page.keyboard.press("Control+Shift+z")
    assignment = submit_and_wait(page)
    assert decoded(answer_of(live_server, seeded, assignment)).tobytes() == first.tobytes()


def test_snap_to_edges_moves_clicked_and_dragged_vertices(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(live_server, {"type": "polygon", "labels": ["crate"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.keyboard.press("s")
    button = page.locator("[data-action=snap-to-edges]")
    assert button.get_attribute("aria-pressed") == "true"
    status = ".snap-status"

    click(page, 83, 100)  # 3 px inside the rectangle's left edge (x = 80)
    assist_done(page, status, "snapped")
    click(page, 150, 78)  # 3 px below its top edge (y = 75)
    assist_done(page, status, "snapped")
    click(page, 150, 150)  # deep inside: no edge near, the point stays
    assist_done(page, status, "none")
    assert page.locator(status).inner_text().startswith("No edge within")
    page.keyboard.press("n")
    objects = page.evaluate("window.__tessera.answer()")["objects"]
    (left, top, inside) = objects[0]["points"]
    assert near(left, (80, 100), 1.5), left
    assert near(top, (150, 75), 1.5), top
    assert near(inside, (150, 150), 0.5), inside  # as clicked

    # The polygon is selected after closing: drag its inner point near the bottom edge (y = 210).
    drag(page, (150, 150), (150, 207))
    assist_done(page, status, "snapped")
    screenshot(page, "assist-snap")
    moved = page.evaluate("window.__tessera.answer()")["objects"][0]["points"][2]
    assert near(moved, (150, 210), 1.5), moved
    page.keyboard.press("Control+z")  # the drag and its snap are one undo step
    assert page.evaluate("window.__tessera.answer()")["objects"][0]["points"][2] == inside
    page.keyboard.press("Control+Shift+z")
    final = page.evaluate("window.__tessera.answer()")["objects"]

    page.keyboard.press("s")  # off: a click is placed where it lands
    assert button.get_attribute("aria-pressed") == "false"
    assignment = submit_and_wait(page)
    assert answer_of(live_server, seeded, assignment)["objects"] == final
