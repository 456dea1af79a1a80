"""The requester's models panel and the gallery's model facts in Chromium (issue 15): attach an
http model by keyboard (the server's refusal of a private URL shown next to the URL field), see
its signing secret once and copy it, detach with a confirmation; attach the built-in classifier
(offered for classification only), switch auto-labelling on (a refused audit share, the form's
own check and the API's problem, next to the field); then the models' predictions, recorded as
the reconciler records them, auto-label some tasks and send the audit share to people, and the
gallery says who labelled each task and what each worker did with the suggestion."""

from __future__ import annotations

import base64
import re
from typing import Any

from sqlalchemy import select

from app.core.db import transaction
from app.models import AnnotatorModel, Task
from tests.quality.test_auto_label import measured, predict_all
from tests.web.conftest import PASSWORD, LiveServer, image_bytes, screenshot
from tests.web.test_requester import sign_in

PUBLIC = "93.184.216.34"


def _resolver(host: str) -> list[str]:
    return ["10.0.0.5"] if host.endswith(".internal.example") else [PUBLIC]


def _requester(server: LiveServer, project: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    with server.api() as anon:
        body = {"role": "requester", "name": "Rita", "email": "rita@example.com",
                "password": PASSWORD}  # fmt: skip
        key = anon.post("/v1/accounts", json=body).json()["api_key"]
    with server.api(key) as api:
        r = api.post("/v1/projects", json=project)
        assert r.status_code == 201, r.text
        return key, r.json()


def _models(server: LiveServer, key: str, project_id: str) -> list[dict[str, Any]]:
    with server.api(key) as api:
        return list(api.get(f"/v1/projects/{project_id}/models").json()["items"])


def test_attach_an_http_model_see_its_secret_once_and_detach_it(
    page: Any, live_server: LiveServer
) -> None:
    live_server.app.state.url_resolver = _resolver
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    spec = {"name": "Street cars", "annotation": {"type": "bbox", "labels": ["car"]}}
    key, project = _requester(live_server, spec)
    sign_in(page, "rita@example.com")
    page.goto(f"/projects/{project['id']}")
    page.wait_for_selector("[data-models] [data-empty=models]")
    # A bbox project: the built-in classifier is not offered, and the page says why.
    assert page.locator("input[name=model-kind][value=builtin]").count() == 0
    assert "classification and multilabel" in page.inner_text("[data-no-builtin]")

    # By keyboard: name, Tab to the URL, Enter sends. The URL's host resolves to a private
    # address: only the server can tell, and its problem shows next to the URL field.
    page.focus("input[name=model-name]")
    page.keyboard.type("detector v3")
    page.keyboard.press("Tab")
    page.keyboard.type("https://gpu.internal.example/predict")
    page.keyboard.press("Enter")
    url_error = page.locator("[data-error-for=url]")
    url_error.filter(has_text="non-public address").wait_for()
    assert page.locator("[data-field=url]").get_attribute("class") == "field invalid"
    assert page.evaluate("document.activeElement.name") == "model-url"  # back on the field
    assert _models(live_server, key, project["id"]) == []

    page.fill("input[name=model-url]", "https://models.example.com/predict")
    page.fill("input[name=model-timeout]", "61")
    page.keyboard.press("Enter")
    page.locator("[data-error-for=timeout_s]").filter(has_text="at most 60").wait_for()
    assert url_error.inner_text() == ""
    page.fill("input[name=model-timeout]", "5")
    page.keyboard.press("Enter")

    # The secret, once: in a dialog that says so, with the copy button focused.
    dialog = page.locator("[data-secret-dialog]")
    dialog.wait_for()
    secret = page.input_value("[data-secret]")
    assert re.fullmatch(r"tms_[A-Za-z0-9_-]{40,}", secret)
    assert "You won't see this again" in dialog.inner_text()
    assert page.evaluate("document.activeElement.dataset.action") == "copy-secret"
    page.keyboard.press("Enter")
    dialog.locator("[role=status]:has-text('Copied')").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "requester-model-secret")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    row = page.locator("[data-models] tr[data-kind=http]")
    assert row.get_attribute("data-state") == "waiting"
    assert "http, 5 s timeout" in row.inner_text()
    assert "not measured yet" in row.locator("[data-fact=reliability]").inner_text()
    assert secret not in page.content()
    page.reload()
    page.wait_for_selector("[data-models] tr[data-kind=http]")
    assert secret not in page.content()
    (listed,) = _models(live_server, key, project["id"])
    assert listed["name"] == "detector v3"
    assert listed["timeout_s"] == 5
    assert "signing_secret" not in listed

    # Detach asks first; Cancel keeps it, and the confirmation's button detaches it.
    page.focus("[data-action=detach]")
    page.keyboard.press("Enter")
    page.locator(".modal:has-text('Detach detector v3?')").wait_for()
    page.keyboard.press("Escape")
    page.wait_for_selector(".modal-backdrop", state="detached")
    assert len(_models(live_server, key, project["id"])) == 1
    page.click("[data-action=detach]")
    page.click("[data-confirm=yes]")
    page.wait_for_selector("[data-models] [data-empty=models]")
    assert _models(live_server, key, project["id"]) == []


def _answer_audits(server: LiveServer, project_id: str, labels: list[str]) -> list[str]:
    """A worker answers every task it can get (the audited ones), with ``labels`` in turn."""
    with server.api() as anon:
        wkey = anon.post("/v1/accounts", json={"role": "worker", "name": "Wes"}).json()["api_key"]
    done = []
    with server.api(wkey) as api:
        for label in labels:
            lease = api.post(f"/v1/projects/{project_id}/assignments")
            assert lease.status_code == 201, lease.text
            assert lease.json()["task"]["pre_annotation"] == {"label": "cat"}
            r = api.post(
                f"/v1/assignments/{lease.json()['id']}/submit", json={"answer": {"label": label}}
            )
            assert r.status_code == 200, r.text
            done.append(lease.json()["task"]["id"])
        assert api.post(f"/v1/projects/{project_id}/assignments").status_code == 204
    return done


def test_auto_labelling_and_who_labelled_each_task(page: Any, live_server: LiveServer) -> None:
    spec = {
        "name": "Pets",
        "annotation": {"type": "classification", "labels": ["cat", "dog"]},
        "reward": "0.05",
        "overlap": {"min": 1, "max": 1},
        "gold_rate": 0,
        "confidence": 0.9,
    }
    key, project = _requester(live_server, spec)
    pid = project["id"]
    with live_server.api(key) as api:
        images = [
            {"name": f"pet{i}.png",
             "data_base64": base64.b64encode(image_bytes(200, 150, (90, 100 + 20 * i, 200))).decode()}
            for i in range(4)
        ]  # fmt: skip
        batch = api.post(f"/v1/projects/{pid}/batches", json={"images": images}).json()
        api.post("/v1/deposits", json={"amount": "10"})
        assert api.post(f"/v1/batches/{batch['id']}/launch").status_code == 200
    sign_in(page, "rita@example.com")
    page.goto(f"/projects/{pid}")
    page.wait_for_selector("[data-models] [data-empty=models]")

    # The built-in classifier: no URL, no secret.
    page.check("input[name=model-kind][value=builtin]")
    assert page.locator(".http-only").is_hidden()
    page.fill("input[name=model-name]", "pets classifier")
    page.click("[data-action=attach]")
    row = page.locator("[data-models] tr[data-kind=builtin]")
    row.wait_for()
    assert row.get_attribute("data-state") == "learning"
    assert page.locator("[data-secret-dialog]").count() == 0

    # Auto-labelling: an audit share of 1.5 is refused next to its field, before any request.
    form = page.locator("form[data-form=auto-label]")
    page.focus("input[name=auto_label]")
    page.keyboard.press("Space")
    page.fill("input[name=auto_label_audit]", "1.5")
    audit_error = form.locator("[data-error-for=audit]")
    audit_error.filter(has_text="From 0 to 1").wait_for()
    page.click("[data-action=save-auto-label]")
    assert page.evaluate("document.activeElement.name") == "auto_label_audit"
    with live_server.api(key) as api:
        assert api.get(f"/v1/projects/{pid}").json()["auto_label"] is False
        # What the API itself answers to that value, which the page shows the same way when a
        # request gets past its own check (the field's message is the API's, word for word).
        refused = api.patch(f"/v1/projects/{pid}", json={"auto_label_audit": 1.5})
    assert refused.status_code == 422
    api_message = refused.json()["errors"][0]["msg"]

    def refuse(route: Any) -> None:
        if route.request.method == "PATCH":
            route.fulfill(status=422, content_type="application/problem+json", body=refused.text)
        else:
            route.continue_()

    page.route(f"**/v1/projects/{pid}", refuse)
    page.fill("input[name=auto_label_audit]", "0.3")
    page.click("[data-action=save-auto-label]")
    audit_error.filter(has_text=api_message).wait_for()
    page.unroute(f"**/v1/projects/{pid}", refuse)
    page.fill("input[name=auto_label_audit]", "0.25")
    assert audit_error.inner_text() == ""
    page.click("[data-action=save-auto-label]")
    form.locator("[data-auto-label=true]").wait_for()
    with live_server.api(key) as api:
        saved = api.get(f"/v1/projects/{pid}").json()
    assert (saved["auto_label"], saved["auto_label_audit"], saved["confidence"]) == (
        True,
        0.25,
        0.9,
    )

    # The model measured right 98% of the time (what a re-estimation would store); two tasks
    # drawn for the audit share (the draw is kept on the task: set here so the test is exact),
    # then its predictions recorded as its reconciler records them.
    (model,) = _models(live_server, key, pid)
    make_session = live_server.app.state.sessionmaker
    now = live_server.clock()
    with make_session() as session:
        measured(session, pid, model["id"], 0.98, now)
        with transaction(session):
            fitted = session.get_one(AnnotatorModel, model["id"])  # as its first fit leaves it
            fitted.trained_on, fitted.fitted_at, fitted.version = 4, now, 1
            tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id))
            for i, task in enumerate(tasks):
                task.audit = i < 2
    predict_all(make_session, pid, model["id"], now)
    audited = _answer_audits(live_server, pid, ["cat", "dog"])

    page.reload()
    row.wait_for()
    assert row.locator("[data-fact=predictions]").inner_text() == "4"
    assert re.match(r"9\d% ± \d+% right", row.locator("[data-fact=reliability]").inner_text())
    assert row.get_attribute("data-state") == "fitted"
    page.set_viewport_size({"width": 1280, "height": 980})
    page.evaluate("document.getElementById('models').scrollIntoView()")
    screenshot(page, "requester-models")
    page.set_viewport_size({"width": 1280, "height": 860})

    page.goto(f"/batches/{batch['id']}/results")
    page.wait_for_function("() => window.__gallery && window.__gallery.items().length === 4")
    by = {
        t.get_attribute("data-task"): t.locator("[data-labeled-by]").get_attribute(
            "data-labeled-by"
        )
        for t in page.locator("article.tile").all()
    }
    assert sorted(by.values()) == ["audit", "audit", "model", "model"]
    assert {t for t, k in by.items() if k == "audit"} == set(audited)
    page.wait_for_function(
        "() => [...document.querySelectorAll('article.tile img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    screenshot(page, "requester-gallery-labeled-by")

    # By keyboard: the first tile is selected; arrows move, Enter opens.
    changed = page.locator(f"article.tile[data-task='{audited[1]}']")  # the worker said "dog"
    index = int(changed.get_attribute("data-index"))
    page.locator("body").focus()
    for _ in range(index):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    detail = page.locator(f"[data-detail='{audited[1]}']")
    detail.wait_for()
    assert detail.locator("p[data-labeled-by=audit]").count() == 1
    start = detail.locator("td[data-start]")
    assert start.get_attribute("data-start") == "replaced"
    assert "changed the label suggested by pets classifier (score 0.99)" in start.inner_text()
    screenshot(page, "requester-gallery-prediction")
    page.keyboard.press("Escape")
    page.wait_for_selector(".modal-backdrop", state="detached")
    other = page.locator(f"article.tile[data-task='{audited[0]}']")
    other.click()
    kept = page.locator(f"[data-detail='{audited[0]}'] td[data-start]")
    assert kept.get_attribute("data-start") == "unchanged"
    page.keyboard.press("Escape")
    auto = next(t for t, k in by.items() if k == "model")
    page.locator(f"article.tile[data-task='{auto}']").click()
    model_detail = page.locator(f"[data-detail='{auto}']")
    assert "No person answered this task" in model_detail.inner_text()
    assert model_detail.locator("tbody tr").count() == 0
    page.keyboard.press("Escape")

    # The filter: only what the model labelled alone (the tasks to spot-check), from the server.
    page.select_option("select[name=labeled_by]", "model")
    page.click("form[data-form=filters] button[type=submit]")
    page.wait_for_function("() => window.__gallery && window.__gallery.items().length === 2")
    shown = page.locator("article.tile [data-labeled-by]").all()
    assert [b.get_attribute("data-labeled-by") for b in shown] == ["model", "model"]
    assert "labeled_by=model" in page.url
