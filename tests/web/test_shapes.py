"""Boxes, polygons, masks and keypoints in the browser: real mouse and keyboard events, and the
answer the API stores equals what was drawn (±1 px; masks exactly, decoded with Pillow)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
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
    stored_answers,
    wait_next_task,
)


def near(actual: Sequence[float], expected: Sequence[float], tol: float = 1.0) -> bool:
    return len(actual) == len(expected) and all(
        abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)
    )


def submit_and_wait(page: Any) -> str:
    done = page.evaluate("window.__tessera.lease().id")
    page.keyboard.press("Control+Enter")
    wait_next_task(page, done)
    return str(done)


def answer_of(server: LiveServer, seeded: Any, assignment_id: str) -> dict[str, Any]:
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(server, seeded)}
    return dict(answers[assignment_id])


class TestBoxes:
    def test_draw_resize_nudge_undo(self, page: Any, live_server: LiveServer) -> None:
        gold_box = [40, 50, 160, 130]
        seeded = seed_project(
            live_server,
            {"type": "bbox", "labels": ["car", "person"]},
            gold=[{"objects": [{"label": "car", "box": gold_box}]}],
        )
        sign_up(page)
        open_task(page, seeded.project["id"])
        drag(page, (40, 50), (200, 180))  # the gold task: qualify first
        submit_and_wait(page)

        drag(page, (40, 50), (200, 180))
        drag(page, (200, 180), (240, 200))  # the bottom-right handle
        page.keyboard.press("Shift+ArrowRight")  # nudge 10 px
        page.keyboard.press("2")  # relabel the selected box: person
        drag(page, (260, 60), (350, 150))  # a stray box…
        page.keyboard.press("Control+z")  # …undone
        drawn = page.evaluate("window.__tessera.answer()")["objects"]
        assert len(drawn) == 1
        assert drawn[0]["label"] == "person"
        assert near(drawn[0]["box"], [50, 50, 200, 150])
        screenshot(page, "tool-boxes")
        assignment = submit_and_wait(page)
        stored = answer_of(live_server, seeded, assignment)["objects"]
        assert stored[0]["label"] == "person"
        assert near(stored[0]["box"], [50, 50, 200, 150])

    def test_four_extreme_points_make_the_box(self, page: Any, live_server: LiveServer) -> None:
        seeded = seed_project(live_server, {"type": "bbox", "labels": ["car", "person"]})
        sign_up(page)
        open_task(page, seeded.project["id"])
        page.keyboard.press("t")
        assert page.locator("[data-action=extreme-points]").get_attribute("aria-pressed") == "true"
        for x, y in [(120, 40), (60, 100), (120, 170), (230, 90)]:  # top, left, bottom, right
            click(page, x, y)
        click(page, 130, 60)  # a point inside the new box starts the next one…
        page.keyboard.press("Control+z")  # …and undo takes that point back, not the box
        drawn = page.evaluate("window.__tessera.answer()")["objects"]
        assert len(drawn) == 1
        assert near(drawn[0]["box"], [60, 40, 170, 130])
        assignment = submit_and_wait(page)
        stored = answer_of(live_server, seeded, assignment)["objects"]
        assert near(stored[0]["box"], [60, 40, 170, 130])


class TestPolygons:
    def test_click_refuse_crossing_close_move_insert_undo(
        self, page: Any, live_server: LiveServer
    ) -> None:
        square = [[50, 50], [200, 50], [200, 200], [50, 200]]
        seeded = seed_project(
            live_server,
            {"type": "polygon", "labels": ["roof"]},
            gold=[{"objects": [{"label": "roof", "points": square}]}],
        )
        sign_up(page)
        open_task(page, seeded.project["id"])
        for x, y in square:
            click(page, x, y)
        page.keyboard.press("n")
        submit_and_wait(page)

        for x, y in square:
            click(page, x, y)
        click(page, 125, 20)  # would cross the first edge: refused
        assert page.locator(".notice").inner_text().startswith("That point would make")
        page.keyboard.press("n")
        drag(page, (200, 200), (230, 220))  # move a vertex of the selected polygon
        click(page, 125, 50)  # click an edge: a vertex is inserted…
        assert len(page.evaluate("window.__tessera.answer()")["objects"][0]["points"]) == 5
        page.keyboard.press("Control+z")  # …and undone
        drawn = page.evaluate("window.__tessera.answer()")["objects"][0]["points"]
        expected = [[50, 50], [200, 50], [230, 220], [50, 200]]
        assert all(near(p, e) for p, e in zip(drawn, expected, strict=True))
        screenshot(page, "tool-polygons")
        assignment = submit_and_wait(page)
        stored = answer_of(live_server, seeded, assignment)["objects"][0]["points"]
        assert all(near(p, e) for p, e in zip(stored, expected, strict=True))

    def test_self_intersecting_drag_is_refused(self, page: Any, live_server: LiveServer) -> None:
        seeded = seed_project(live_server, {"type": "polygon", "labels": ["roof"]})
        sign_up(page)
        open_task(page, seeded.project["id"])
        for x, y in [[50, 50], [200, 50], [200, 200], [50, 200]]:
            click(page, x, y)
        page.keyboard.press("n")
        drag(page, (200, 200), (20, 120))  # through the left edge: a bow-tie
        points = page.evaluate("window.__tessera.answer()")["objects"][0]["points"]
        assert near(points[2], [200, 200])
        assert "cross" in page.locator(".notice").inner_text()


def mask_png(width: int, height: int, box: tuple[int, int, int, int], value: int) -> str:
    img = Image.new("L", (width, height), 0)
    img.paste(value, box)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def decoded(answer: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(answer["mask_png_base64"])))


class TestMasks:
    def test_paint_erase_fill_undo_gives_the_exact_png(
        self, page: Any, live_server: LiveServer
    ) -> None:
        seeded = seed_project(
            live_server,
            {"type": "segmentation", "labels": ["road", "car"]},
            gold=[{"mask_png_base64": mask_png(400, 300, (100, 100, 250, 200), 1)}],
        )
        sign_up(page)
        open_task(page, seeded.project["id"])
        page.keyboard.press("p")  # polygon fill: the gold region, exactly
        for x, y in [(100, 100), (250, 100), (250, 200), (100, 200)]:
            click(page, x, y)
        page.keyboard.press("n")
        submit_and_wait(page)

        page.keyboard.press("b")
        page.keyboard.press("1")
        drag(page, (40, 80), (300, 80), steps=20)  # road
        page.keyboard.press("2")
        drag(page, (100, 200), (220, 200), steps=12)  # car
        page.keyboard.press("e")
        drag(page, (150, 50), (150, 110), steps=8)  # erase across the road
        page.keyboard.press("b")
        drag(page, (300, 250), (380, 280), steps=8)  # a stray stroke…
        page.keyboard.press("Control+z")  # …undone
        drawn = page.evaluate("window.__tessera.answer()")
        screenshot(page, "tool-masks")
        assignment = submit_and_wait(page)
        stored = answer_of(live_server, seeded, assignment)
        mask = decoded(stored)
        assert mask.mode == "L"
        assert mask.size == (400, 300)
        assert set(mask.tobytes()) <= {0, 1, 2}
        assert mask.tobytes() == decoded(drawn).tobytes()  # exactly what was shown
        assert mask.getpixel((60, 80)) == 1
        assert mask.getpixel((160, 200)) == 2
        assert mask.getpixel((150, 80)) == 0  # erased
        assert mask.getpixel((340, 265)) == 0  # the undone stroke
        assert mask.getpixel((10, 10)) == 0


class TestKeypoints:
    def test_guided_order_skeleton_occluded_drag_undo(
        self, page: Any, live_server: LiveServer
    ) -> None:
        where = [(200, 50), (100, 150), (300, 150)]
        seeded = seed_project(
            live_server,
            {
                "type": "keypoints",
                "keypoints": ["head", "left_hand", "right_hand"],
                "skeleton": [[0, 1], [0, 2]],
            },
            gold=[{"objects": [{"label": "object", "points": [[x, y, 2] for x, y in where]}]}],
        )
        sign_up(page)
        open_task(page, seeded.project["id"])
        assert page.locator(".keypoints li.next").inner_text().startswith("head")
        for x, y in where:
            click(page, x, y)
        submit_and_wait(page)

        click(page, *where[0])
        assert page.locator(".keypoints li.next").inner_text().startswith("left_hand")
        assert "Place “left_hand”" in page.evaluate("window.__tessera.check()")
        click(page, *where[1])
        click(page, *where[2])
        page.keyboard.press("v")  # the last point is occluded
        drag(page, (200, 50), (210, 60))  # move the head…
        page.keyboard.press("Control+z")  # …undone
        drawn = page.evaluate("window.__tessera.answer()")["objects"][0]["points"]
        expected = [[200, 50, 2], [100, 150, 2], [300, 150, 1]]
        assert all(near(p, e) for p, e in zip(drawn, expected, strict=True))
        screenshot(page, "tool-keypoints")
        assignment = submit_and_wait(page)
        stored = answer_of(live_server, seeded, assignment)["objects"][0]["points"]
        assert all(near(p, e) for p, e in zip(stored, expected, strict=True))
