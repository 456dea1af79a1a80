"""A multi-label project's worker model (issue 15): the re-estimation fits every worker's
sensitivity and specificity (every (task, label) pair a yes/no question, gold and agreement),
a model's predictions among the answers, so a reliable model's vote weighs like a good
worker's and a useless one's goes to about nothing; before any fit a model has no weight."""

from __future__ import annotations

import random

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.annotations import AnnotationSpec
from app.annotators.service import record_prediction
from app.core.db import transaction
from app.models import AnnotatorModel, ProjectModel, Task
from app.quality.engine import MultilabelEngine, TaskAnswer, engine_for, fit_multilabel
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup
from tests.quality import crowd
from tests.quality.test_end_to_end import run_crowd
from workers.quality import Reestimate
from workers.runner import run_pass

LABELS = ["indoor", "person", "animal", "text", "night"]
SPEC = AnnotationSpec.model_validate({"type": "multilabel", "labels": LABELS})


def flipped(truth: set[str], flip: float, rng: np.random.Generator) -> list[str]:
    return [lab for lab in LABELS if (lab in truth) != (rng.random() < flip)]


def fitted_state(model: str, seed: int = 0) -> dict[str, object]:
    """The re-estimation's fit of a project: 300 tasks, 3 of 8 workers (each label flipped 15%
    of the time) on each, the model ``mdl_1`` on every task, 30 gold tasks. ``model``: "good"
    flips 3% of labels; "useless" ticks each label at random, whatever the image."""
    rng = np.random.default_rng(seed)
    truth = [{lab for lab in LABELS if rng.random() < 0.35} for _ in range(300)]
    records: list[tuple[str, str, list[str]]] = []
    for t, true in enumerate(truth):
        for w in rng.choice(8, 3, replace=False):
            records.append((f"t{t}", f"w{w}", flipped(true, 0.15, rng)))
        if model == "good":
            given = flipped(true, 0.03, rng)
        else:
            given = [lab for lab in LABELS if rng.random() < 0.35]
        records.append((f"t{t}", "mdl_1", given))
    gold = {f"t{t}": sorted(truth[t]) for t in range(30)}
    return fit_multilabel(SPEC, records, gold)


def weight_of_model(state: dict[str, object]) -> float:
    """How far the model's tick (or its absence) moves a label's log-odds, at most."""
    workers = state["workers"]
    assert isinstance(workers, dict)
    log_cm = np.log(np.asarray(workers["mdl_1"]["confusion"]))
    return float(max(np.ptp(log_cm[:, answered]) for answered in range(2)))


def engine(state: dict[str, object] | None) -> MultilabelEngine:
    built = engine_for(SPEC, width=10, height=10, fitted=state)
    assert isinstance(built, MultilabelEngine)
    return built


def answers(*given: tuple[str, list[str]]) -> list[TaskAnswer]:
    return [TaskAnswer(w, {"labels": labels}, model=w.startswith("mdl_")) for w, labels in given]


def test_a_good_model_earns_weight_and_a_useless_one_none() -> None:
    good, useless = fitted_state("good"), fitted_state("useless")
    assert weight_of_model(good) > 2.5  # ~3.6: its tick is strong evidence either way
    assert weight_of_model(useless) < 0.3  # its ticks say nothing of the image
    people = answers(("w0", ["indoor", "person"]), ("w1", ["indoor"]), ("w2", ["indoor"]))
    alone = engine(useless).consensus(people)
    for given in (["night"], list(LABELS), [], ["person", "text"]):
        with_model = engine(useless).consensus([*people, *answers(("mdl_1", given))])
        assert with_model.answer == alone.answer
        assert with_model.object_confidences is not None
        assert alone.object_confidences is not None
        moved = np.abs(np.subtract(with_model.object_confidences, alone.object_confidences))
        assert moved.max() < 0.08, (given, moved)


def test_a_good_model_agreeing_completes_sooner_and_disagreeing_asks_more() -> None:
    fitted = engine(fitted_state("good"))
    one = fitted.consensus(answers(("w0", ["indoor", "animal"])))
    assert one.confidence < 0.9  # one person: not enough for a 0.9 target
    agreed = fitted.consensus(
        answers(("w0", ["indoor", "animal"]), ("mdl_1", ["indoor", "animal"]))
    )
    assert agreed.answer == {"labels": ["indoor", "animal"]}
    assert agreed.confidence >= 0.9  # the model agreeing on every label: done with one answer
    two = answers(("w0", ["indoor", "animal"]), ("w1", ["indoor", "animal"]))
    disagreed = fitted.consensus([*two, *answers(("mdl_1", ["indoor"]))])
    assert disagreed.confidence < fitted.consensus(two).confidence  # "animal" is in doubt


def test_the_fit_learns_each_label_prior_and_each_worker() -> None:
    state = fitted_state("good")
    prior = state["label_prior"]
    assert isinstance(prior, dict)
    assert set(prior) == set(LABELS)
    assert all(0.2 < p < 0.5 for p in prior.values())  # every label applies ~35% of the time
    workers = state["workers"]
    assert isinstance(workers, dict)
    for w in ("w0", "w7"):  # flip 15%: sensitivity and specificity ~0.85 each
        cm = np.asarray(workers[w]["confusion"])
        assert 0.75 < cm[0, 0] < 0.95, cm
        assert 0.75 < cm[1, 1] < 0.95, cm


def test_before_any_fit_a_model_has_no_weight() -> None:
    unfitted = engine(None)
    people = answers(("w0", ["indoor"]), ("w1", ["indoor"]))
    alone = unfitted.consensus(people)
    with_model = unfitted.consensus([*people, *answers(("mdl_9", ["person", "text"]))])
    assert with_model.answer == alone.answer
    assert with_model.confidence == alone.confidence
    only_model = unfitted.consensus(answers(("mdl_9", ["person"])))
    assert only_model.confidence <= 0.5  # no evidence at all: never auto-labelled


def test_the_reestimation_measures_multilabel_models(client: TestClient, clock: FakeClock) -> None:
    """Through the service: predictions of two models on a launched multi-label batch, a crowd
    answers, the re-estimation reconciler fits; the good model comes out with sensitivity and
    specificity near the crowd's best, the useless one with rows alike (no weight)."""
    rng = random.Random(3)
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "multilabel", "labels": LABELS},
        overlap={"min": 3, "max": 3},
        ban_below_accuracy=0.0,
    )
    models = {}
    for name in ("good", "useless"):
        r = client.post(
            f"/v1/projects/{project['id']}/models",
            headers=requester,
            json={"kind": "builtin", "name": name},
        )
        assert r.status_code == 201, r.text
        models[name] = r.json()["id"]
    files = [("files", (f"i{i}.png", png(20, 20, (i, 1, 2)))) for i in range(40)]
    batch = client.post(
        f"/v1/projects/{project['id']}/batches", files=files, headers=requester
    ).json()
    deposit(client, requester, "10")
    client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    tasks = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()[
        "items"
    ]
    truth = {t["task_id"]: crowd.multilabel_truth(rng, LABELS) for t in tasks}
    make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with make_session() as session:
        for task_id, true in truth.items():
            with transaction(session):
                task = session.scalar(select(Task).where(Task.id == task_id).with_for_update())
                assert task is not None
                good = [lab for lab in LABELS if (lab in true["labels"]) != (rng.random() < 0.03)]
                useless = [lab for lab in LABELS if rng.random() < 0.4]
                for name, given in (("good", good), ("useless", useless)):
                    model = session.get_one(AnnotatorModel, models[name])
                    record_prediction(session, model, task, {"labels": given}, 0.9, now=clock())
    workers = [
        crowd.SimWorker(h, h, crowd.answer_multilabel(h, LABELS), signup(client, "worker"))
        for h in ["good", "good", "sloppy", "spammer"]
    ]
    run_crowd(client, project["id"], workers, truth, rng)
    assert run_pass(make_session, [Reestimate()], clock())["quality.reestimate"] == 1
    with make_session() as session:
        fitted = session.scalar(
            select(ProjectModel.state).where(ProjectModel.project_id == project["id"])
        )
    assert fitted is not None
    good_cm = np.asarray(fitted["workers"][models["good"]]["confusion"])
    useless_cm = np.asarray(fitted["workers"][models["useless"]]["confusion"])
    assert good_cm[0, 0] > 0.85, good_cm
    assert good_cm[1, 1] > 0.85, good_cm
    # Rows alike: P(tick | applies) ≈ P(tick | does not) — its tick says nothing.
    assert abs(useless_cm[1, 1] - useless_cm[0, 1]) < 0.25, useless_cm
