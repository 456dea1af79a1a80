"""The model as one more worker in the consensus (issue 15, item 3), at the engine: its weight is
what the re-estimation's fit (gold and agreement) says it has earned, so a useless model's answer
moves nothing and a reliable one's moves the consensus like a good worker's; before any fit it
has no weight at all; it is left out of the calibration's design effect."""

from __future__ import annotations

import random

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.annotations import AnnotationSpec
from app.annotators.service import record_prediction
from app.core.db import transaction
from app.models import AnnotatorModel, ProjectModel, Task
from app.quality.engine import (
    MODEL_MIN_GOLD,
    ClassificationEngine,
    TaskAnswer,
    engine_for,
    gold_counts,
    rest_models_on_gold,
)
from consensus import Answers, Auto, WorkerSkills
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup
from tests.quality import crowd
from tests.quality.test_end_to_end import LABELS as CROWD_LABELS
from tests.quality.test_end_to_end import run_crowd
from workers.quality import Reestimate
from workers.runner import run_pass

LABELS = ["cat", "dog", "fox"]


def fitted_project(model_accuracy: float, seed: int = 0) -> tuple[WorkerSkills, list[str]]:
    """The re-estimation's fit of a project: 300 tasks, 3 of 8 workers (right 80% of the time)
    on each, the model ``mdl_1`` on every task, 30 gold tasks; the true labels."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 300)
    tasks, workers, given = [], [], []

    def answer(t: int, who: str, accuracy: float) -> None:
        right = rng.random() < accuracy
        label = truth[t] if right else (truth[t] + rng.integers(1, 3)) % 3
        tasks.append(f"t{t}")
        workers.append(who)
        given.append(LABELS[label])

    for t in range(300):
        for w in rng.choice(8, 3, replace=False):
            answer(t, f"w{w}", 0.8)
        answer(t, "mdl_1", model_accuracy)
    gold = {f"t{t}": LABELS[truth[t]] for t in range(30)}
    fit = Auto().fit(Answers.from_records(tasks, workers, given, label_names=LABELS), gold=gold)
    return fit.skills_, [LABELS[x] for x in truth]


def confidence(engine: ClassificationEngine, labels: list[tuple[str, str]]) -> dict[str, float]:
    answers = [TaskAnswer(w, {"label": lab}, model=w.startswith("mdl_")) for w, lab in labels]
    c = engine.consensus(answers)
    return {c.answer["label"]: c.confidence}


def weight_of_model(skills: WorkerSkills) -> float:
    """How far the model's answer moves the log-odds of its label, at most (0: no weight)."""
    i = skills.worker_names.index("mdl_1")
    log_cm = np.log(skills.confusion[i])
    return float(max(np.ptp(log_cm[:, lab]) for lab in range(len(LABELS))))


def test_a_useless_model_gets_about_no_weight() -> None:
    skills, _ = fitted_project(model_accuracy=1 / 3)  # answers at random
    useful, _ = fitted_project(model_accuracy=0.9)
    assert weight_of_model(skills) < 0.6  # a log-odds nudge (0.1-0.5 over seeds), against…
    assert weight_of_model(useful) > 2.0  # …a 0.9 model's strong vote
    engine = ClassificationEngine(LABELS, skills)
    humans = [("w0", "cat"), ("w1", "cat"), ("w2", "dog")]
    alone = confidence(engine, humans)
    for label in LABELS:  # whatever the useless model says, the consensus barely moves
        with_model = confidence(engine, [*humans, ("mdl_1", label)])
        assert with_model.keys() == alone.keys()
        assert abs(with_model["cat"] - alone["cat"]) < 0.05


def test_a_reliable_model_agreeing_makes_the_consensus_sure_sooner() -> None:
    skills, _ = fitted_project(model_accuracy=0.95)
    engine = ClassificationEngine(LABELS, skills)
    one = confidence(engine, [("w0", "fox")])
    assert one["fox"] < 0.9  # one person: not enough for a 0.9 target
    agreed = confidence(engine, [("w0", "fox"), ("mdl_1", "fox")])
    assert agreed["fox"] >= 0.9  # the model agreeing: done with one human answer
    disagreed = confidence(engine, [("w0", "fox"), ("mdl_1", "dog")])
    assert max(disagreed.values()) < one["fox"]  # disagreeing: more answers are bought


def test_a_model_no_fit_has_seen_has_no_weight() -> None:
    spec = AnnotationSpec.model_validate({"type": "classification", "labels": LABELS})
    engine = engine_for(spec, width=10, height=10, fitted=None)
    humans = [TaskAnswer("w0", {"label": "cat"}), TaskAnswer("w1", {"label": "cat"})]
    alone = engine.consensus(humans)
    for label in LABELS:
        model = TaskAnswer("mdl_9", {"label": label}, accuracy=0.0, model=True)
        with_model = engine.consensus([*humans, model])
        assert with_model.answer == alone.answer
        assert abs(with_model.confidence - alone.confidence) < 0.01
    only_model = engine.consensus([TaskAnswer("mdl_9", {"label": "fox"}, 0.0, model=True)])
    assert only_model.confidence < 0.34  # chance over three labels: never auto-labelled


def test_the_model_is_left_out_of_the_design_effect() -> None:
    skills, _ = fitted_project(model_accuracy=0.9)
    assert skills.rho > 0
    labels, workers = ["cat", "cat", "cat"], ["w0", "w1", "mdl_1"]
    counted = skills.posterior(labels, workers)
    humans_only = skills.posterior(labels, workers, correlated=2)
    assert humans_only[0] > counted[0]  # tempering by two people's correlation, not three


def test_the_reestimation_measures_the_models_like_workers(
    client: TestClient, clock: FakeClock
) -> None:
    """Predictions enter the project's periodic fit as answers of their models: a model right
    95% of the time comes out trusted, one answering at random comes out with no weight."""
    rng = random.Random(5)
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        annotation={"type": "classification", "labels": CROWD_LABELS},
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
    truth = {t["task_id"]: crowd.classification_truth(rng, CROWD_LABELS) for t in tasks}
    make_session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with make_session() as session:
        for task_id, true in truth.items():
            with transaction(session):
                task = session.scalar(select(Task).where(Task.id == task_id).with_for_update())
                assert task is not None
                good = true if rng.random() < 0.95 else {"label": rng.choice(CROWD_LABELS)}
                for name, answer in (
                    ("good", good),
                    ("useless", {"label": rng.choice(CROWD_LABELS)}),
                ):
                    model = session.get_one(AnnotatorModel, models[name])
                    record_prediction(session, model, task, answer, 0.9, now=clock())
    # Before any fit the models weigh nothing: no task completed on their word.
    items = client.get(f"/v1/batches/{batch['id']}/results?limit=500", headers=requester).json()
    assert all(i["status"] == "open" for i in items["items"])
    workers = [
        crowd.SimWorker(
            h, h, crowd.answer_classification(h, CROWD_LABELS), signup(client, "worker")
        )
        for h in ["good", "good", "good", "spammer"]
    ]
    run_crowd(client, project["id"], workers, truth, rng)
    assert run_pass(make_session, [Reestimate()], clock())["quality.reestimate"] == 1
    with make_session() as session:
        fitted = session.scalar(
            select(ProjectModel.state).where(ProjectModel.project_id == project["id"])
        )
    assert fitted is not None
    accuracy = {name: fitted["workers"][mid]["accuracy"] for name, mid in models.items()}
    assert accuracy["good"] > 0.75, accuracy  # ~0.89 (Beta-shrunk over 40 tasks)
    assert accuracy["useless"] < 0.6, accuracy  # ~0.35: chance over three labels


def test_an_unmeasured_model_moves_no_box_and_completes_nothing() -> None:
    spec = AnnotationSpec.model_validate({"type": "bbox", "labels": ["car"]})
    engine = engine_for(spec, width=200, height=100, fitted=None)
    box = {"objects": [{"label": "car", "box": [10, 10, 50, 40]}]}
    elsewhere = {"objects": [{"label": "car", "box": [120, 30, 60, 50]}]}
    people = [TaskAnswer("w0", box), TaskAnswer("w1", box)]
    alone = engine.consensus(people)
    with_model = engine.consensus([*people, TaskAnswer("mdl_1", elsewhere, 0.0, model=True)])
    assert with_model.answer == alone.answer
    assert with_model.confidence == alone.confidence
    only_model = engine.consensus([TaskAnswer("mdl_1", elsewhere, 0.0, model=True)])
    assert only_model.confidence == 0.0  # its shapes, with no confidence: never auto-labelled


def crowd_that_errs_together(
    model: str, seed: int = 0, *, use_gold: bool = False
) -> tuple[WorkerSkills, dict[str, np.ndarray]]:
    """300 tasks, a third of them hard: there every one of the 3 people (of 8) on the task gives
    the same wrong label; elsewhere each is right 85% of the time. 60 gold tasks. ``model``:
    "good" is right 90% of the time everywhere; "follower" gives the crowd's hard-item error
    there and is right elsewhere (what agreement rewards and gold does not). Returns the fit
    and the model's gold counts. ``use_gold=False``: a fit that learns from agreement alone
    (gold only clamps its tasks), the fit that gold first must correct; True: ``Auto`` as the
    re-estimation runs it, which also learns the workers' confusions from the gold."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 300)
    hard = rng.random(300) < 1 / 3
    tasks, workers, given = [], [], []
    for t in range(300):
        trap = (truth[t] + 1) % 3
        for w in rng.choice(8, 3, replace=False):
            right = not hard[t] and rng.random() < 0.85
            label = truth[t] if right else trap if hard[t] else (truth[t] + rng.integers(1, 3)) % 3
            tasks.append(f"t{t}")
            workers.append(f"w{w}")
            given.append(LABELS[label])
        if model == "good":
            label = truth[t] if rng.random() < 0.9 else (truth[t] + rng.integers(1, 3)) % 3
        else:
            label = trap if hard[t] else truth[t]
        tasks.append(f"t{t}")
        workers.append("mdl_1")
        given.append(LABELS[label])
    gold = {f"t{t}": LABELS[truth[t]] for t in range(60)}
    answers = Answers.from_records(tasks, workers, given, label_names=LABELS)
    fitted = Auto(use_gold=use_gold).fit(answers, gold=gold).skills_
    records = [(t, w, g) for t, w, g in zip(tasks, workers, given, strict=True) if w == "mdl_1"]
    return fitted, gold_counts(LABELS, records, gold, {"mdl_1"})


def model_accuracy(skills: WorkerSkills) -> float:
    """Balanced accuracy of the model's matrix (the diagonal's mean)."""
    return float(np.diagonal(skills.confusion[skills.worker_names.index("mdl_1")]).mean())


def test_gold_first_lifts_a_good_model_the_erring_crowd_underrates() -> None:
    fitted, on_gold = crowd_that_errs_together("good")
    assert model_accuracy(fitted) < 0.75  # agreement alone: the model "misses" the hard third
    rested = rest_models_on_gold(fitted, on_gold)
    assert model_accuracy(rested) > 0.82  # ~0.9 on gold: what it is
    humans = [i for i, w in enumerate(fitted.worker_names) if w != "mdl_1"]
    assert np.array_equal(rested.confusion[humans], fitted.confusion[humans])  # people untouched


def test_gold_first_lowers_a_model_that_errs_like_the_crowd() -> None:
    fitted, on_gold = crowd_that_errs_together("follower")
    rested = rest_models_on_gold(fitted, on_gold)
    assert model_accuracy(rested) < model_accuracy(fitted) - 0.1  # gold sees its hard-item errors
    assert model_accuracy(rested) < 0.8


def test_the_reestimation_measures_both_models_as_gold_sees_them() -> None:
    """The re-estimation's own fit (``Auto`` learning from the gold too), then gold first: the
    good model ends near its 0.9, the follower below what agreement alone would credit it."""
    good, good_gold = crowd_that_errs_together("good", use_gold=True)
    follower, follower_gold = crowd_that_errs_together("follower", use_gold=True)
    assert model_accuracy(rest_models_on_gold(good, good_gold)) > 0.82
    assert model_accuracy(rest_models_on_gold(follower, follower_gold)) < 0.8


def test_gold_first_keeps_a_fit_gold_agrees_with() -> None:
    skills, _ = fitted_project(model_accuracy=0.9)
    rng = np.random.default_rng(2)
    counts = np.zeros((3, 3))
    for truth in rng.integers(0, 3, 40):  # a gold record like the fit's ~0.9
        counts[truth, truth if rng.random() < 0.9 else (truth + 1) % 3] += 1
    kept = rest_models_on_gold(skills, {"mdl_1": counts})
    assert np.array_equal(kept.confusion, skills.confusion)
    few = counts / counts.sum() * (MODEL_MIN_GOLD - 1)  # too little gold: the fit stands too
    few[0, 1] += few[0, 0]  # even a record that says otherwise
    few[0, 0] = 0
    unmoved = rest_models_on_gold(skills, {"mdl_1": few})
    assert np.array_equal(unmoved.confusion, skills.confusion)
