"""The worker's flow around the tools: pre-annotations, drafts across a reload, an expired lease,
a ban, shortcuts and text fields, hostile project text, no outside requests, sign-in throttling,
history with an appeal, and earnings."""

from __future__ import annotations

from typing import Any

from app.accounts import service as account_service
from app.core.clock import utc_now
from app.models import Role
from tests.web.conftest import (
    PASSWORD,
    LiveServer,
    drag,
    open_task,
    screenshot,
    seed_project,
    sign_up,
    stored_answers,
    wait_next_task,
)


def my_id(page: Any) -> str:
    return str(page.evaluate("fetch('/v1/me').then(r => r.json()).then(m => m.id)"))


def test_pre_annotation_is_editable_and_the_correction_is_stored(
    page: Any, live_server: LiveServer
) -> None:
    pre = {"objects": [{"label": "car", "box": [20, 20, 100, 80]}]}
    seeded = seed_project(
        live_server,
        {"type": "bbox", "labels": ["car"]},
        n_images=1,
        pre_annotations={"img0.png": pre},
    )
    sign_up(page)
    open_task(page, seeded.project["id"])
    assert page.evaluate("window.__tessera.answer()") == pre
    page.locator(".objects li").first.click()  # select the pre-annotated box
    drag(page, (120, 100), (160, 130))  # its bottom-right handle
    lease = page.evaluate("window.__tessera.lease().id")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-state=no-tasks]")
    page.wait_for_function("() => window.__tessera.pending() === 0")
    stored = {a["assignment_id"]: a["answer"] for a in stored_answers(live_server, seeded)}
    box = stored[lease]["objects"][0]["box"]
    assert all(abs(a - e) <= 1 for a, e in zip(box, [20, 20, 140, 110], strict=True))


def test_reload_mid_task_restores_the_draft(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "bbox", "labels": ["car", "bus"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    lease = page.evaluate("window.__tessera.lease().id")
    drag(page, (30, 30), (130, 110))
    page.keyboard.press("2")
    drawn = page.evaluate("window.__tessera.answer()")
    page.wait_for_timeout(700)  # the draft is written 0.4 s after the last change
    page.reload()
    page.wait_for_function("() => window.__tessera && window.__tessera.ready()")
    assert page.evaluate("window.__tessera.lease().id") == lease
    assert page.evaluate("window.__tessera.answer()") == drawn
    assert "draft" in page.locator(".notice").inner_text()


def test_expired_lease_says_so_and_moves_on(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(
        live_server,
        {"type": "classification", "labels": ["a", "b"]},
        n_images=5,
        assignment_duration_s=60,
    )
    sign_up(page)
    page.clock.install()
    open_task(page, seeded.project["id"])
    first = page.evaluate("window.__tessera.lease().id")
    page.clock.fast_forward(50_000)
    assert "warning" in (page.locator(".countdown").get_attribute("class") or "")
    live_server.clock.advance(61)  # the server agrees: that lease is over
    page.clock.fast_forward(11_000)
    wait_next_task(page, first)
    assert "Time is up" in page.locator(".task-message").inner_text()
    page.keyboard.press("1")
    second = page.evaluate("window.__tessera.lease().id")
    page.keyboard.press("Enter")
    wait_next_task(page, second)
    stored = {a["assignment_id"] for a in stored_answers(live_server, seeded)}
    assert second in stored
    assert first not in stored


def test_banned_worker_sees_why(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "classification", "labels": ["a", "b"]})
    sign_up(page)
    worker_id = my_id(page)
    with live_server.app.state.sessionmaker() as session:
        _, operator_key = account_service.create_account(
            session, role=Role.operator, name="Olga", now=utc_now()
        )
    with live_server.api(operator_key) as api:
        r = api.post(
            f"/v1/admin/workers/{worker_id}/ban",
            json={
                "reason": "answers faster than anyone can read",
                "project_id": seeded.project["id"],
            },
        )
        assert r.status_code == 200, r.text
    page.goto(f"/work/{seeded.project['id']}")
    message = page.locator(".task-message")
    message.wait_for()
    assert "answers faster than anyone can read" in message.inner_text()
    assert "cannot work on this project" in message.inner_text()


def test_shortcuts_never_fire_in_a_text_field(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(live_server, {"type": "classification", "labels": ["a", "b", "c"]})
    sign_up(page)
    open_task(page, seeded.project["id"])
    page.keyboard.press("2")
    page.evaluate(
        "document.querySelector('.tool-panel').append(Object.assign("
        "document.createElement('input'), {id: 'note', type: 'text'}))"
    )
    lease = page.evaluate("window.__tessera.lease().id")
    page.click("#note")
    page.keyboard.type("13")
    assert page.input_value("#note") == "13"
    page.keyboard.press("Control+z")  # the field's own undo, not the label's
    page.keyboard.press("Enter")  # not a submit
    page.keyboard.press("i")  # not the instructions
    assert page.evaluate("window.__tessera.answer()") == {"label": "b"}
    assert page.evaluate("window.__tessera.lease().id") == lease
    assert page.locator(".modal").count() == 0


def test_hostile_project_text_renders_as_text_and_no_other_host_is_asked(
    page: Any, live_server: LiveServer
) -> None:
    seeded = seed_project(
        live_server,
        {"type": "classification", "labels": ["<img src=x onerror=window.__xss=2>", "ok"]},
        name="<script>window.__xss=1</script>Cats",
        instructions=(
            "Look <script>window.__xss=3</script> here: [click me](javascript:window.__xss=4)\n\n"
            "![remote](https://cdn.example.com/cat.png) and <iframe src=//evil.example></iframe>"
        ),
    )
    sign_up(page)
    card = page.locator(f"[data-project='{seeded.project['id']}']")
    assert "<script>window.__xss=1</script>Cats" in card.locator("h2").inner_text()
    card.get_by_text("Instructions").click()
    modal = page.locator(".modal .markdown")
    assert "<script>window.__xss=3</script>" in modal.inner_text()
    assert "<iframe" in modal.inner_text()
    assert modal.locator("a[href^='javascript']").count() == 0
    assert modal.locator("img, iframe, script").count() == 0
    page.keyboard.press("Escape")
    open_task(page, seeded.project["id"])
    assert "onerror" in page.locator(".tool-panel").inner_text()
    page.keyboard.press("i")
    page.wait_for_selector(".modal")
    assert page.evaluate("window.__xss") is None
    assert page.guard.blocked == []  # and the fixture checks it again at the end


def test_sign_in_is_throttled_after_ten_failures(page: Any, live_server: LiveServer) -> None:
    with live_server.api() as api:
        api.post(
            "/v1/accounts",
            json={
                "role": "worker",
                "name": "Ada",
                "email": "ada@example.com",
                "password": PASSWORD,
            },
        )
    page.goto("/signin")
    for _ in range(10):
        page.fill("input[name=email]", "ada@example.com")
        page.fill("input[name=password]", "not my password")
        with page.expect_response("**/v1/sessions") as response:
            page.click("form[data-form=signin] button[type=submit]")
        assert response.value.status == 401
    page.fill("input[name=password]", PASSWORD)
    with page.expect_response("**/v1/sessions") as response:
        page.click("form[data-form=signin] button[type=submit]")
    assert response.value.status == 429
    assert response.value.headers["retry-after"]
    # The page shows the refusal after the response arrives: wait for it, as a person would.
    page.wait_for_function(
        "() => document.querySelector('.form-errors')?.innerText.includes('Too many attempts')"
    )


def test_history_appeal_and_earnings(page: Any, live_server: LiveServer) -> None:
    seeded = seed_project(
        live_server, {"type": "classification", "labels": ["cat", "dog"]}, n_images=2
    )
    sign_up(page)
    open_task(page, seeded.project["id"])
    done = []
    for label in ("1", "2"):
        lease = page.evaluate("window.__tessera.lease().id")
        done.append(lease)
        page.keyboard.press(label)
        page.keyboard.press("Enter")
        if len(done) < 2:
            wait_next_task(page, lease)
    page.wait_for_selector("[data-state=no-tasks]")
    page.wait_for_function("() => window.__tessera.pending() === 0")
    with live_server.api(seeded.requester_key) as api:
        assert api.post(f"/v1/assignments/{done[0]}/accept").status_code == 200
        r = api.post(
            f"/v1/assignments/{done[1]}/reject",
            json={"reason": "It is a cat: look at the ears <b>closely</b>."},
        )
        assert r.status_code == 200, r.text
    page.goto("/history")
    rejected = page.locator(f"tr[data-assignment='{done[1]}']")
    assert "look at the ears <b>closely</b>." in rejected.inner_text()
    # Two answers fit one page: nothing more to show, so no "Show more".
    assert page.get_by_role("button", name="Show more").is_hidden()
    screenshot(page, "history")
    rejected.locator("[data-action=appeal]").click()
    rejected.locator("textarea").fill("The ears are a dog's: see the snout too.")
    rejected.locator("button[type=submit]").click()
    rejected.get_by_text("Appeal sent").wait_for()
    page.goto("/earnings")
    page.wait_for_selector("[data-balance=pending]")
    assert "$0.05" in page.locator("[data-balance=pending]").inner_text()
    assert "Minimum payout" in page.locator("form.payout").inner_text()
    # The accuracy table shows what GET /v1/me/skills says (it has no gold count to add).
    (mine,) = [
        s
        for s in page.request.get("/v1/me/skills").json()["items"]
        if s["project_id"] == seeded.project["id"]
    ]
    row = page.locator("table.skills tbody tr").first
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == str(mine["graded_answers"])
    graded = mine["graded_answers"] > 0
    assert cells[1] == (f"{round(mine['accuracy'] * 100)}%" if graded else "not graded yet")
    screenshot(page, "earnings")
