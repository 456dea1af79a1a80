"""Classification and multi-label in the browser, from sign-up to the stored answer."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import (
    LiveServer,
    open_task,
    screenshot,
    seed_project,
    sign_up,
    stored_answers,
    wait_next_task,
)


def test_classification_qualify_on_gold_then_answer_with_keys(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(
        live_server,
        {"type": "classification", "labels": ["cat", "dog", "bird"]},
        gold=[{"label": "dog"}],
        n_images=2,
        name="Cats or dogs",
    )
    sign_up(page)
    card = page.locator(f"[data-project='{seeded.project['id']}']")
    assert "1 gold task to qualify" in card.inner_text()
    screenshot(page, "marketplace")
    card.get_by_text("Start").click()
    page.wait_for_function("() => window.__tessera && window.__tessera.ready()")
    gold = page.evaluate("window.__tessera.lease().id")
    page.keyboard.press("2")  # dog
    page.keyboard.press("Enter")
    wait_next_task(page, gold)
    first = page.evaluate("window.__tessera.lease().id")
    page.keyboard.press("1")
    page.keyboard.press("3")  # changed my mind: bird
    page.keyboard.press("Control+z")  # back to cat
    assert page.evaluate("window.__tessera.answer()") == {"label": "cat"}
    screenshot(page, "tool-classification")
    with page.expect_request("**/submit") as req:
        page.keyboard.press("Control+Enter")
    assert req.value.post_data_json == {"answer": {"label": "cat"}}
    wait_next_task(page, first)
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    assert answers[first] == {"label": "cat"}


def test_multilabel_toggles_with_number_keys(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(
        live_server, {"type": "multilabel", "labels": ["outdoor", "person", "car"]}, n_images=2
    )
    sign_up(page)
    open_task(page, seeded.project["id"])
    first = page.evaluate("window.__tessera.lease().id")
    for key in ("1", "3", "2", "2"):
        page.keyboard.press(key)
    page.get_by_role("button", name="person").click()  # mouse works too
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__tessera.answer()") == {"labels": ["outdoor", "car"]}
    screenshot(page, "tool-multilabel")
    page.click("[data-action=submit]")
    wait_next_task(page, first)
    answers = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    assert answers[first] == {"labels": ["outdoor", "car"]}
