"""The task page on a phone: the image takes its own shape, the labels and Submit are on the
first screen, a finger draws (touch events, as Chromium gets them from a touch screen), and the
edit bar does what the keys do where there are no keys."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import (
    PHONE,
    LiveServer,
    open_task,
    screenshot,
    seed_project,
    sign_up,
    stored_answers,
    to_screen,
    wait_next_task,
)
from tests.web.test_shapes import decoded


def finger_drag(page: Any, a: tuple[float, float], b: tuple[float, float], steps: int = 8) -> None:
    """One finger from image pixel a to b: touchstart, touchmoves, touchend."""
    cdp = page.context.new_cdp_session(page)
    (ax, ay), (bx, by) = to_screen(page, *a), to_screen(page, *b)
    touch = "Input.dispatchTouchEvent"
    cdp.send(touch, {"type": "touchStart", "touchPoints": [{"x": ax, "y": ay}]})
    for i in range(1, steps + 1):
        x, y = ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps
        cdp.send(touch, {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    # The finger stops before it lifts, as it does at the end of a box: lifted while moving, it
    # would be a fling, and Chromium drops the next tap as the one that stops the fling.
    page.wait_for_timeout(150)
    cdp.send(touch, {"type": "touchMove", "touchPoints": [{"x": bx, "y": by}]})
    cdp.send(touch, {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def tap_image(page: Any, x: float, y: float) -> None:
    page.touchscreen.tap(*to_screen(page, x, y))


def on_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def answer(page: Any) -> Any:
    return page.evaluate("window.__tessera.answer()")


def near(actual: list[float], expected: list[float], tol: float) -> bool:
    return len(actual) == len(expected) and all(
        abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)
    )


def test_classification_fits_the_first_screen_and_takes_taps(
    phone: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(
        live_server, {"type": "classification", "labels": ["cat", "dog", "bird"]}, n_images=2
    )
    sign_up(phone)
    open_task(phone, seeded.project["id"])
    assert phone.evaluate("window.scrollY") == 0
    for label in ("cat", "dog", "bird"):
        assert on_first_screen(phone, f".choice[data-label='{label}']"), label
    assert on_first_screen(phone, "[data-action=submit]")
    # The stage has the image's 4:3 shape: no band of black above and below it.
    stage = phone.locator(".stage").bounding_box()
    assert abs(stage["height"] - stage["width"] * 300 / 400) <= 2, stage
    # No keyboard on a phone: no key hints either.
    assert phone.locator("kbd").evaluate_all(
        "ks => ks.every(k => getComputedStyle(k).display === 'none')"
    )
    screenshot(phone, "phone-classification")
    first = phone.evaluate("window.__tessera.lease().id")
    phone.tap(".choice[data-label='dog']")
    phone.tap("[data-action=submit]")
    wait_next_task(phone, first)
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    assert answers[first] == {"label": "dog"}
    # The history's wide table scrolls in its own box; the page keeps the screen's width.
    phone.goto("/history")
    phone.wait_for_selector(f"tr[data-assignment='{first}']")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_finger_draws_a_box_and_the_edit_bar_deletes_and_undoes(
    phone: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(live_server, {"type": "bbox", "labels": ["car", "person"]}, n_images=2)
    sign_up(phone)
    open_task(phone, seeded.project["id"])
    finger_drag(phone, (40, 50), (200, 180))
    # A CSS pixel is ~1.1 image pixels on this screen: within 2 of what the finger drew.
    (drawn,) = answer(phone)["objects"]
    assert drawn["label"] == "car"
    assert near(drawn["box"], [40, 50, 160, 130], 2), drawn
    assert phone.evaluate("window.scrollY") == 0  # the drag drew; it did not scroll the page
    screenshot(phone, "phone-boxes")
    phone.tap("[data-action=delete]")
    assert answer(phone)["objects"] == []
    phone.tap("[data-action=undo]")
    assert answer(phone)["objects"] == [drawn]
    phone.tap("[data-action=redo]")
    assert answer(phone)["objects"] == []
    phone.tap("[data-action=undo]")
    first = phone.evaluate("window.__tessera.lease().id")
    phone.tap("[data-action=submit]")
    wait_next_task(phone, first)
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    assert answers[first] == {"objects": [drawn]}


def test_taps_place_an_outline_that_the_close_button_closes(
    phone: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(live_server, {"type": "polygon", "labels": ["roof"]}, n_images=2)
    sign_up(phone)
    open_task(phone, seeded.project["id"])
    corners = [(60.0, 60.0), (300.0, 70.0), (280.0, 240.0), (80.0, 220.0)]
    for x, y in corners:
        tap_image(phone, x, y)
    assert answer(phone)["objects"] == []  # still an open outline
    phone.tap("[data-action=close-shape]")
    (outline,) = answer(phone)["objects"]
    placed = [c for point in outline["points"] for c in point]
    expected = [c for point in corners for c in point]
    assert outline["label"] == "roof"
    assert near(placed, expected, 2), outline
    first = phone.evaluate("window.__tessera.lease().id")
    phone.tap("[data-action=submit]")
    wait_next_task(phone, first)
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    assert answers[first] == {"objects": [outline]}


def test_a_finger_paints_a_mask(phone: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "segmentation", "labels": ["road"]}, n_images=2)
    sign_up(phone)
    open_task(phone, seeded.project["id"])
    finger_drag(phone, (40, 150), (360, 150), steps=24)
    mask = decoded(answer(phone))
    assert mask.getpixel((200, 150)) == 1  # under the stroke
    assert mask.getpixel((200, 40)) == 0  # far from it
    phone.tap("[data-action=undo]")
    assert set(decoded(answer(phone)).tobytes()) == {0}


def test_keypoints_by_taps_with_not_in_image_and_occluded_buttons(
    phone: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(
        live_server,
        {"type": "keypoints", "keypoints": ["head", "left_hand", "right_hand"]},
        n_images=2,
    )
    sign_up(phone)
    open_task(phone, seeded.project["id"])
    tap_image(phone, 200, 50)
    phone.tap("[data-action=not-in-image]")  # no left hand in this picture
    tap_image(phone, 300, 150)
    phone.tap("[data-action=occluded]")  # the right hand is behind something
    (obj,) = answer(phone)["objects"]
    head, left, right = obj["points"]
    assert near(head[:2], [200, 50], 2)
    assert head[2] == 2
    assert left == [0, 0, 0]
    assert near(right[:2], [300, 150], 2)
    assert right[2] == 1
