"""The builtin classifier learns from the project's accepted consensus: on a generated data set
whose classes differ in colour and texture, its accuracy on held-out open tasks rises as the
consensus grows, each time refitted by the ``models.builtin`` reconciler."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.annotators import classifier
from app.annotators.service import predictions_for
from app.models import AnnotatorModel, Task
from app.models import Image as ImageRow
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, signup, upload
from workers.annotators import BuiltinModels
from workers.runner import run_pass

LABELS = ["warm", "leafy", "striped"]


def picture(kind: str, rng: np.random.Generator) -> bytes:
    """48x40 images: warm = reddish, leafy = greenish, both noisy; striped = grey of a random
    shade with dark horizontal stripes. Means jitter so neighbours overlap in places."""
    h, w = 40, 48
    if kind == "warm":
        base = np.array([170, 70, 50]) + rng.normal(0, 25, 3)
    elif kind == "leafy":
        base = np.array([70, 150, 60]) + rng.normal(0, 25, 3)
    else:
        base = np.full(3, rng.uniform(80, 180))
    img = np.tile(base, (h, w, 1)) + rng.normal(0, 20, (h, w, 3))
    if kind == "striped":
        period = int(rng.integers(4, 8))
        img[(np.arange(h) // (period // 2)) % 2 == 0] -= 60
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def images(kinds: list[str], prefix: str, rng: np.random.Generator) -> dict[str, bytes]:
    return {f"{prefix}{i:03d}-{kind}.png": picture(kind, rng) for i, kind in enumerate(kinds)}


def launch(
    client: TestClient, requester: dict[str, str], project_id: str, files: dict[str, bytes]
) -> None:
    batch = upload(client, requester, project_id, files)
    r = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert r.status_code == 200, r.text


def answer(
    client: TestClient,
    worker: dict[str, str],
    project_id: str,
    makers: sessionmaker[Session],
    n: int,
) -> None:
    """The worker answers the next ``n`` tasks (oldest first) with their true class."""
    for _ in range(n):
        lease = client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
        assert lease.status_code == 201, lease.text
        with makers() as s:
            name = s.get_one(Task, lease.json()["task"]["id"]).image_name
        truth = name.rsplit("-", 1)[1].split(".")[0]
        r = client.post(
            f"/v1/assignments/{lease.json()['id']}/submit",
            headers=worker,
            json={"answer": {"label": truth}},
        )
        assert r.status_code == 200, r.text


def held_out_accuracy(makers: sessionmaker[Session], prefix: str) -> tuple[float, int]:
    with makers() as s:
        tasks = s.scalars(select(Task).where(Task.image_name.startswith(prefix))).all()
        found = predictions_for(s, [t.id for t in tasks])
        right = 0
        for t in tasks:
            [p] = found[t.id]
            right += p.answer["label"] == t.image_name.rsplit("-", 1)[1].split(".")[0]
            assert 0 <= p.score <= 1
            assert t.pre_annotation == p.answer
        version = s.scalars(select(AnnotatorModel.version)).one()
    return right / len(tasks), version


def test_accuracy_rises_as_the_consensus_grows(client: TestClient, clock: FakeClock) -> None:
    rng = np.random.default_rng(15)
    state = client.app.state  # type: ignore[attr-defined]
    makers: sessionmaker[Session] = state.sessionmaker
    requester, worker = signup(client, "requester"), signup(client, "worker")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": LABELS},
        overlap={"min": 1, "max": 1},
        gold_rate=0,
    )
    made = client.post(
        f"/v1/projects/{project['id']}/models",
        headers=requester,
        json={"kind": "builtin", "name": "linear"},
    )
    assert made.status_code == 201, made.text
    deposit(client, requester, "100")
    # Oldest tasks are leased first: the first batch is answered first, the held-out batch never.
    launch(client, requester, project["id"], images(["warm", "leafy"] * 2, "a", rng))
    launch(client, requester, project["id"], images(LABELS * 12, "b", rng))
    launch(client, requester, project["id"], images(LABELS * 10, "held", rng))
    reconciler = BuiltinModels(state.settings, store=state.image_store)

    def refit() -> dict[str, int]:
        clock.advance(60)
        return run_pass(makers, [reconciler], clock())

    assert refit()["models.builtin"] == 0  # no consensus yet: nothing to learn from
    answer(client, worker, project["id"], makers, 4)
    refit()
    early, v1 = held_out_accuracy(makers, "held")
    answer(client, worker, project["id"], makers, 36)
    refit()
    late, v2 = held_out_accuracy(makers, "held")
    assert (v1, v2) == (1, 2)
    assert early <= 2 / 3  # four examples of two classes: the third is never named
    assert late >= 0.9, late
    assert late > early
    listed = client.get(f"/v1/projects/{project['id']}/models", headers=requester).json()["items"]
    assert listed[0]["trained_on"] == 40
    with makers() as s:
        stored = s.scalars(select(AnnotatorModel.state)).one()
    assert stored is not None
    assert set(stored) >= {"coef", "intercept", "mean", "scale", "classes", "features"}


def test_gold_tasks_are_predicted_by_a_fit_that_never_saw_their_gold(
    client: TestClient, clock: FakeClock
) -> None:
    """The builtin model learns from gold answers too, but a gold task's prediction (shown to
    workers, and what the re-estimation measures the model on first) comes from a second fit
    on the non-gold examples alone; with none yet, gold tasks get no prediction at all."""
    rng = np.random.default_rng(4)
    state = client.app.state  # type: ignore[attr-defined]
    makers: sessionmaker[Session] = state.sessionmaker
    requester, worker = signup(client, "requester"), signup(client, "worker")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": LABELS},
        overlap={"min": 1, "max": 1},
        gold_rate=0,
    )
    made = client.post(
        f"/v1/projects/{project['id']}/models",
        headers=requester,
        json={"kind": "builtin", "name": "linear"},
    )
    assert made.status_code == 201, made.text
    for i, kind in enumerate(LABELS * 3):
        r = client.post(
            f"/v1/projects/{project['id']}/gold",
            headers=requester,
            files={"file": (f"gold{i:02d}-{kind}.png", picture(kind, rng))},
            data={"answer": json.dumps({"label": kind})},
        )
        assert r.status_code == 201, r.text
    deposit(client, requester, "100")
    launch(client, requester, project["id"], images(LABELS * 6, "a", rng))
    reconciler = BuiltinModels(state.settings, store=state.image_store)

    def refit() -> None:
        clock.advance(60)
        run_pass(makers, [reconciler], clock())

    def predicted() -> tuple[dict[str, list[Any]], list[Task], dict[str, Any]]:
        with makers() as s:
            tasks = list(s.scalars(select(Task).where(Task.project_id == project["id"])).all())
            found = predictions_for(s, [t.id for t in tasks])
            model = s.scalars(select(AnnotatorModel.state)).one()
        assert model is not None
        return found, tasks, model

    refit()  # nine gold examples, nothing else: a fit, but no holdout
    found, tasks, model = predicted()
    assert "holdout" not in model
    assert all(not found[t.id] for t in tasks if t.is_gold)
    assert all(found[t.id] for t in tasks if not t.is_gold)
    answer(client, worker, project["id"], makers, 12)
    refit()
    found, tasks, model = predicted()
    holdout = model["holdout"]
    assert holdout["examples"] == 12  # the answered tasks' consensus, no gold
    gold = [t for t in tasks if t.is_gold]
    assert len(gold) == 9
    for t in gold:
        [p] = found[t.id]
        with makers() as s:
            sha = s.get_one(ImageRow, t.image_id).sha256
        x = classifier.features_of(sha, state.image_store.get)
        assert p.answer == classifier.predict(holdout, x)[0]


class TestClassifier:
    def test_features_are_computed_once_per_image(self) -> None:
        rng = np.random.default_rng(9)
        data = {"a" * 64: picture("warm", rng), "b" * 64: picture("striped", rng)}
        loads: list[str] = []

        def load(sha256: str) -> bytes:
            loads.append(sha256)
            return data[sha256]

        first = [classifier.features_of(k, load) for k in data]
        again = [classifier.features_of(k, load) for k in data]
        assert loads == list(data)
        for x, y, raw in zip(first, again, data.values(), strict=True):
            assert np.array_equal(x, y)
            assert np.array_equal(x, classifier.features(raw))

    def test_multilabel(self) -> None:
        rng = np.random.default_rng(3)
        kinds = ["warm", "leafy", "striped"] * 8
        x = np.vstack([classifier.features(picture(k, rng)) for k in kinds])
        targets = [[k, "any"] if k != "striped" else ["any"] for k in kinds]
        state = classifier.fit(x, targets, ["warm", "leafy", "any"], multilabel=True)
        assert state is not None
        answer, score = classifier.predict(state, classifier.features(picture("warm", rng)))
        assert answer == {"labels": ["warm", "any"]}
        assert 0.5 <= score <= 1

    @pytest.mark.parametrize("targets", [["warm"] * 6, ["warm", "leafy"]])
    def test_nothing_to_learn_yet(self, targets: list[Any]) -> None:
        x = np.zeros((len(targets), 358))
        assert classifier.fit(x, targets, LABELS, multilabel=False) is None

    def test_binary_softmax_matches_sklearn(self) -> None:
        rng = np.random.default_rng(5)
        kinds = ["warm", "leafy"] * 6
        x = np.vstack([classifier.features(picture(k, rng)) for k in kinds])
        state = classifier.fit(x, kinds, ["warm", "leafy"], multilabel=False)
        assert state is not None
        assert [classifier.predict(state, row)[0]["label"] for row in x] == kinds
