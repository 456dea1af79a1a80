"""Every endpoint of the API once, through the Python client, against the real app."""

from __future__ import annotations

import asyncio
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from tessera.client import Conflict, NotFound, Unauthorized, Unprocessable, models
from tests.assist.test_assist import BOX, scene
from tests.conftest import FakeClock
from tests.factories import make_operator, png
from workers.money import ReleaseHolds
from workers.runner import run_pass

BROWSER_ONLY = {
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions/current"),
    ("DELETE", "/v1/sessions/current"),
    ("GET", "/v1/web/config"),
}
"""Cookie sign-in and the web app's own configuration: not for scripts."""

PROJECT: dict[str, Any] = {
    "name": "Pets",
    "instructions": "Is it a cat or a dog?",
    "annotation": {"type": "classification", "labels": ["cat", "dog"]},
    "reward": "0.05",
    "overlap": {"min": 1, "max": 1},
    "gold_rate": 0,
}


def _templates(client: TestClient) -> list[tuple[str, re.Pattern[str], str]]:
    out: list[tuple[str, re.Pattern[str], str]] = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        out.extend((method.upper(), pattern, path) for method in operations)
    return out


def test_every_endpoint_once(
    client: TestClient, connect_both: Any, settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    connect = connect_both
    anon = connect()
    assert anon.healthz()["status"] == "ok"
    anon.readyz()
    with pytest.raises(Unauthorized):
        anon.me()

    r_acc = anon.create_account("requester", "Rita")
    w_acc = anon.create_account("worker", "Walt")
    r, w = connect(r_acc.api_key), connect(w_acc.api_key)
    ops_client = connect(make_operator(settings)["Authorization"].split()[1])

    ops_client.update_admin_settings({"payout_hold_s": 0, "min_payout": "0.01"})
    assert ops_client.admin_settings().payout_hold_s == 0
    assert {c.setting for c in ops_client.settings_history()} >= {"payout_hold_s"}

    # Accounts, keys, money
    assert r.me().id == r_acc.id
    key = r.create_api_key("ci")
    assert [k.id for k in r.api_keys()] == [key.id] or key.id in [k.id for k in r.api_keys()]
    assert connect(key.api_key).me().id == r_acc.id
    r.delete_api_key(key.id)
    with pytest.raises(Unauthorized):
        connect(key.api_key).me()
    dep = r.deposit("20")
    assert dep.amount == Decimal("20")
    assert any(e.kind for e in r.ledger())

    # Projects, gold
    project = r.create_project(PROJECT)
    assert [p.id for p in r.projects()] == [project.id]
    assert r.get_project(project.id).name == "Pets"
    assert (
        r.update_project(project.id, {"instructions": "Cat or dog?"}).instructions == "Cat or dog?"
    )
    other = r.create_project({**PROJECT, "name": "Gold holder"})
    gold = r.add_gold(other.id, ("gold.png", png(40, 40, (1, 2, 3))), {"label": "cat"})
    assert gold.answer == {"label": "cat"}
    imported = r.import_gold(
        other.id,
        [
            ("train/dog/a.png", png(41, 40)),
            ("labels.csv", b"image_name,label\nnot-there.png,cat\n"),
        ],
        labels_format="folders",
    )
    assert [(g.image_name, g.answer) for g in imported.items] == [("a.png", {"label": "dog"})]
    assert imported.labels[0]["file"] == "labels.csv"
    attached = r.create_model(project.id, {"kind": "builtin", "name": "linear"})
    assert attached.kind == "builtin"
    assert [x.id for x in r.models(project.id)] == [attached.id]
    r.delete_model(project.id, attached.id)
    assert list(r.models(project.id)) == []

    # Batches
    images = [(f"img{i}.png", png(30 + i, 20 + i)) for i in range(4)]
    batch = r.create_batch(project.id, images[:3])
    assert batch.task_count == 3
    more = r.add_images(batch.id, [images[3], ("again.png", images[0][1])])
    assert [a.name for a in more.added] == ["img3.png"]
    assert [p.name for p in more.present] == ["again.png"]
    assert more.batch.task_count == 4
    batch = r.launch_batch(batch.id)
    assert batch.status == "open"
    assert r.get_batch(batch.id).money.escrowed > 0
    assert [b.id for b in r.batches(project.id)] == [batch.id]
    spare = r.create_batch(project.id, [("spare.png", png(50, 50))])
    with pytest.raises(Conflict):
        r.add_images(r.launch_batch(spare.id).id, [("late.png", png(51, 51))])
    assert r.cancel_batch(spare.id).status == "cancelled"

    # Work
    assert any(p.id == project.id for p in w.projects())
    leases = [w.lease(project.id) for _ in range(4)]
    assert all(lease is not None for lease in leases)
    first = leases[0]
    assert first is not None
    assert w.image(first.task.image_url)[:4] == b"\x89PNG"
    done = [w.submit(lease.id, {"label": "cat"}) for lease in leases[:3] if lease]
    assert all(a.status == "submitted" for a in done)
    assert leases[3] is not None
    assert w.release(leases[3].id).status == "released"
    assert len(list(w.my_assignments())) == 4
    assert isinstance(w.my_skills(), list)

    # Review
    submitted = list(r.batch_assignments(batch.id, status="submitted"))
    assert len(submitted) == 3
    a1, a2, a3 = (a.id for a in submitted)
    assert r.accept(a1).status == "accepted"
    assert r.bonus(a1, "0.10", "tidy work").amount == Decimal("0.10")
    r.reject(a2, "that is a dog")
    r.reject(a3, "that is a dog")
    assert w.appeal(a2, "look again").appeal_message == "look again"
    w.appeal(a3, "please")
    assert r.grant_appeal(a2, "you are right").status == "accepted"
    assert r.deny_appeal(a3, "it is a dog").status == "rejected"
    results = list(r.results(batch.id, include_answers=True))
    assert len(results) == 4
    assert sum(len(x.answers or []) for x in results) == 3
    assert len(list(r.results(batch.id, verdict="rejected"))) == 1
    assert len(list(r.results(batch.id, status="completed"))) == 3
    assert r.batch_stats(batch.id)["completed_tasks"] == 3
    out = r.export(batch.id, "csv", tmp_path / "out.csv")
    assert out.read_text().count("\n") >= 4
    with zipfile.ZipFile(r.download_images(batch.id, tmp_path / "images.zip")) as zf:
        assert sum(n.endswith(".png") for n in zf.namelist()) == 4

    # Webhooks
    connect.app.state.url_resolver = lambda host: ["93.184.216.34"]
    hook = r.create_webhook("https://hooks.example.com/t", ["batch.completed"])
    assert hook.secret
    assert hook.events == ["batch.completed"]
    assert [h.id for h in r.webhooks()] == [hook.id]
    assert r.get_webhook(hook.id).secret is None
    assert r.ping_webhook(hook.id).status == "pending"
    assert [d.event_type for d in r.webhook_deliveries(hook.id)] == ["ping"]
    r.delete_webhook(hook.id)
    with pytest.raises(NotFound):
        r.get_webhook(hook.id)
    with pytest.raises(Unprocessable):
        r.create_webhook("http://10.0.0.1/", ["batch.completed"])

    # Annotation assistants, for a worker holding a polygon or a segmentation task
    scene_png, _ = scene()
    suggested = {}
    for annotation in ({"type": "polygon", "labels": ["blob", "other"]},
                       {"type": "segmentation", "labels": ["other", "blob"]}):  # fmt: skip
        shaped = r.create_project({**PROJECT, "name": annotation["type"], "annotation": annotation})
        r.launch_batch(r.create_batch(shaped.id, [("scene.png", scene_png)]).id)
        held = w.lease(shaped.id)
        assert held is not None
        if annotation["type"] == "polygon":
            suggested["polygon"] = w.box_to_polygon(held.id, BOX, "blob")
            snapped = w.snap(held.id, [165 + 80, 118], radius=20)
            assert isinstance(snapped.snapped, bool)
            assert len(snapped.point) == 2
        else:
            suggested["mask"] = w.box_to_mask(held.id, BOX, "blob")
            suggested["superpixel"] = w.superpixel(held.id, [165, 118], "blob", segments=200)
        w.release(held.id)
    assert suggested["polygon"].answer["objects"][0]["label"] == "blob"
    assert "mask_png_base64" in suggested["mask"].answer
    assert suggested["superpixel"].area > 0

    # Operator and payouts
    assert any(row.id == w_acc.id for row in ops_client.admin_workers())
    assert ops_client.ban(w_acc.id, "testing").banned
    assert not ops_client.unban(w_acc.id).banned
    assert ops_client.verify_ledger().ok
    assert isinstance(ops_client.admin_stats(), dict)
    clock.advance(60)
    run_pass(connect.app.state.sessionmaker, [ReleaseHolds()], clock())
    payout = w.payout()
    assert w.get_payout(payout.id).amount == payout.amount > 0
    assert [p.id for p in ops_client.admin_payouts(status="open")] == [payout.id]
    with pytest.raises(NotFound):
        r.get_batch("bat_nope")

    # Every documented operation was called (sessions and web config are the browser's).
    called = set()
    templates = _templates(client)
    for c in (anon, r, w, ops_client):
        for request in c._http._transport.requests:
            for method, pattern, path in templates:
                if method == request.method and pattern.match(request.url.path):
                    called.add((method, path))
    everything = {(m, p) for m, _, p in templates}
    assert everything - BROWSER_ONLY - called == set()


def test_async_client(aconnect: Any) -> None:
    async def scenario() -> None:
        async with aconnect() as anon:
            account = await anon.create_account("requester", "Async Ann")
        async with aconnect(account.api_key) as r:
            await r.deposit("5")
            project = await r.create_project(PROJECT)
            batch = await r.create_batch(
                project.id, [(f"{i}.png", png(20 + i, 20)) for i in range(3)]
            )
            added = await r.add_images(batch.id, [("x.png", png(99, 20))])
            assert added.batch.task_count == 4
            assert (await r.launch_batch(batch.id)).status == "open"
            names = [item.image_name async for item in r.results(batch.id, limit=2)]
            assert sorted(names) == ["0.png", "1.png", "2.png", "x.png"]
            with pytest.raises(Unprocessable) as refused:
                await r.create_project({**PROJECT, "reward": "-1"})
            assert refused.value.problem["status"] == 422
            assert refused.value.errors

    # In a thread of its own: when the browser tests ran first in this process, the session's
    # Playwright (sync API) keeps an event loop running on the main thread, and asyncio.run
    # refuses to start a second one there.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_models_match_the_openapi_document(client: TestClient) -> None:
    """Each client model matches its OpenAPI component: its fields exist there with the same JSON
    types, and it has every required property (a renamed, retyped or new required field fails)."""
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    for cls in models.ALL_MODELS:
        schema = schemas[cls.schema_name]
        props = schema["properties"]
        fields = cls.model_fields
        # Every model field is in the schema (nothing renamed or made up) and every required
        # property is in the model; an optional property added since is kept by extra="allow".
        required = set(schema.get("required", []))
        assert set(fields) <= set(props), cls.__name__
        assert required <= set(fields), cls.__name__
        model_required = {n for n, f in fields.items() if f.is_required()}
        # The model may default an optional-but-always-sent field; never require an optional one.
        assert model_required <= required, cls.__name__
        for name, info in fields.items():
            assert _json_types(info.annotation) == _schema_types(props[name], schemas), (
                f"{cls.__name__}.{name}"
            )


def _json_types(annotation: Any) -> set[str]:
    import types
    import typing
    from datetime import datetime

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_json_types(a) for a in typing.get_args(annotation)))
    if annotation is type(None):
        return {"null"}
    if origin is list:
        return {"array"}
    if origin is dict or annotation is dict:
        return {"object"}
    if isinstance(annotation, type) and issubclass(annotation, models.Model):
        return {f"ref:{annotation.schema_name}"}
    return {
        str: {"string"},
        datetime: {"string"},
        Decimal: {"string"},
        int: {"integer"},
        float: {"number"},
        bool: {"boolean"},
    }.get(annotation, {"any"})


def _schema_types(prop: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    if "$ref" in prop:
        return {f"ref:{prop['$ref'].split('/')[-1]}"}
    if "anyOf" in prop:
        return set().union(*(_schema_types(p, schemas) for p in prop["anyOf"]))
    kind = prop.get("type")
    if kind == "number" and prop.get("format") is None:
        return {"number"}
    return {kind} if kind else {"any"}
