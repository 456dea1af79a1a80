"""Gold cannot be told apart by anything a worker sees or times (issue 8).

A qualified worker's stream mixes gold in at the project's gold rate. For each gold and real
lease the worker submits a *wrong* answer (the one case where a verdict could leak), and
everything it can observe afterwards is compared: the submit response, its history, its
standing, and the submit's latency.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.factories import deposit, make_project, png, signup, upload
from tests.quality.test_gold import add_gold
from workers.runner import default_reconcilers, run_pass

H = dict[str, str]


def mixed_project(client: TestClient, *, n_gold: int, n_real: int) -> tuple[H, str, set[str]]:
    """A project without qualification whose leases are gold half of the time."""
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 2, "max": 3},
        gold_rate=0.5,
        qualification={"gold_tasks": 0, "min_accuracy": 0.8},
    )
    gold_ids = {add_gold(client, requester, project["id"], "cat", i)["id"] for i in range(n_gold)}
    images = {f"real{i}.png": png(40, 30, (200, i % 250, i // 250)) for i in range(n_real)}
    batch = upload(client, requester, project["id"], images)
    deposit(client, requester, "100")
    launched = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert launched.status_code == 200, launched.text
    return requester, project["id"], gold_ids


def lease(client: TestClient, project_id: str, worker: H) -> dict[str, Any] | None:
    r = client.post(f"/v1/projects/{project_id}/assignments", headers=worker)
    assert r.status_code in (201, 204), r.text
    return r.json() if r.status_code == 201 else None


def observe(client: TestClient, worker: H) -> tuple[Any, Any]:
    skills = client.get("/v1/me/skills", headers=worker)
    me = client.get("/v1/me", headers=worker)
    return skills.json(), me.json()


def test_a_wrong_gold_answer_looks_like_a_wrong_real_one(
    client: TestClient, clock: FakeClock
) -> None:
    _, project_id, gold_ids = mixed_project(client, n_gold=6, n_real=6)
    worker = signup(client, "worker")
    seen: dict[bool, dict[str, Any]] = {}
    while len(seen) < 2 and (held := lease(client, project_id, worker)) is not None:
        is_gold = held["task"]["id"] in gold_ids
        before = observe(client, worker)
        r = client.post(
            f"/v1/assignments/{held['id']}/submit",
            json={"answer": {"label": "dog"}},  # gold's known answer is "cat"
            headers=worker,
        )
        assert r.status_code == 200, r.text
        assert observe(client, worker) == before or not is_gold, "a gold submit moved /v1/me/*"
        assert r.headers.get("etag") is None
        seen.setdefault(is_gold, r.json())
    assert set(seen) == {True, False}, "the stream should have held both kinds"
    gold, real = seen[True], seen[False]
    assert gold.keys() == real.keys()
    varying = {"id", "task_id", "leased_at", "expires_at", "submitted_at"}
    assert {k: v for k, v in gold.items() if k not in varying} == {
        k: v for k, v in real.items() if k not in varying
    }
    assert (gold["reason"], gold["status"]) == (None, "submitted")
    history = client.get("/v1/me/assignments", headers=worker).json()["items"]
    assert all(h["reason"] is None for h in history), "no verdict before it is final"

    # After the review window the verdicts are final, and the gold one reads like a real one.
    clock.advance(3 * 86_400 + 1)
    run_pass(client.app.state.sessionmaker, default_reconcilers(), clock())  # type: ignore[attr-defined]
    by_task = {
        h["task_id"]: h for h in client.get("/v1/me/assignments", headers=worker).json()["items"]
    }
    gold_final = by_task[gold["task_id"]]
    assert (gold_final["status"], gold_final["reason"]) == ("rejected", "label dog; consensus cat")


def test_skills_list_and_qualified_flag_do_not_mark_the_first_gold(client: TestClient) -> None:
    # Gold comes at random (rate 0.5) while real work lasts: with 20 real tasks the stream holds
    # a gold one except once in a million runs (with 4 it failed one run in 16).
    _, project_id, gold_ids = mixed_project(client, n_gold=4, n_real=20)
    worker = signup(client, "worker")
    while (held := lease(client, project_id, worker)) is not None:
        if held["task"]["id"] in gold_ids:
            break
        client.post(
            f"/v1/assignments/{held['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
    assert held is not None
    before = client.get("/v1/me/skills", headers=worker).json()
    assert [s["qualified"] for s in before["items"]] == [True]
    client.post(
        f"/v1/assignments/{held['id']}/submit", json={"answer": {"label": "cat"}}, headers=worker
    )
    assert client.get("/v1/me/skills", headers=worker).json() == before


def test_gold_and_real_submits_take_the_same_time(
    client: TestClient, record_property: Callable[[str, object], None]
) -> None:
    """About 200 gold and 200 real submits, interleaved as the stream serves them: the medians of
    the two agree within 10%. The stream draws gold at random (rate 0.5) until the 200 real tasks
    are done, so the gold count varies around 200 (standard deviation 20). Each real answer here
    is its task's first, the commonest submit (a task needs ``overlap.min`` answers); a completing
    answer costs more, gold or not."""
    _, project_id, gold_ids = mixed_project(client, n_gold=200, n_real=200)
    workers = [signup(client, "worker")]
    timings: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    active = list(workers)
    while active:
        for worker in list(active):
            held = lease(client, project_id, worker)
            if held is None:
                active.remove(worker)
                continue
            url = f"/v1/assignments/{held['id']}/submit"
            is_gold = held["task"]["id"] in gold_ids
            start, start_cpu = time.perf_counter(), time.process_time()
            r = client.post(url, json={"answer": {"label": "cat"}}, headers=worker)
            timings[is_gold].append(time.perf_counter() - start)
            cpu[is_gold].append(time.process_time() - start_cpu)
            assert r.status_code == 200, r.text
    gold, real = timings[True], timings[False]
    assert len(real) == 200, (len(gold), len(real))
    assert len(gold) >= 120, (len(gold), len(real))
    # Wall time is what a worker can measure; the process's CPU time per submit (the server runs
    # in this process) is the same comparison with other processes' load on the machine taken out.
    for name, samples in (("cpu", cpu), ("wall", timings)):
        p50_gold, p50_real = statistics.median(samples[True]), statistics.median(samples[False])
        figures = f"{name} p50: gold {p50_gold * 1e3:.2f} ms, real {p50_real * 1e3:.2f} ms"
        record_property(f"submit_{name}_p50_ms", figures)
        print(figures)  # noqa: T201
        assert abs(p50_gold - p50_real) <= 0.10 * p50_real, figures


def test_gold_carries_a_pre_annotation_when_real_tasks_do(client: TestClient) -> None:
    """A batch uploaded with pre-annotations (a model's guesses) gives every real lease one; a
    gold task created with its own looks the same in the lease (without one, it would be the
    lease with none)."""
    requester = signup(client, "requester")
    project = make_project(
        client,
        requester,
        overlap={"min": 1, "max": 1},
        gold_rate=0.5,
        qualification={"gold_tasks": 0, "min_accuracy": 0.8},
    )
    guess = {"label": "dog"}
    r = client.post(
        f"/v1/projects/{project['id']}/gold",
        headers=requester,
        files={"file": ("g.png", png(40, 30, (1, 9, 9)))},
        data={"answer": json.dumps({"label": "cat"}), "pre_annotation": json.dumps(guess)},
    )
    assert r.status_code == 201, r.text
    assert r.json()["pre_annotation"] == guess
    images = [
        {"name": f"r{i}.png", "data_base64": base64.b64encode(png(40, 30, (i, 1, 1))).decode()}
        # Gold is mixed in at random (rate 0.5 per lease while real work remains): with 12 real
        # tasks the worker meets it with probability 1 - 2^-12 (with 4 it missed 1 run in 16).
        for i in range(12)
    ]
    r = client.post(
        f"/v1/projects/{project['id']}/batches",
        json={"images": images, "pre_annotations": {i["name"]: guess for i in images}},
        headers=requester,
    )
    assert r.status_code == 201, r.text
    deposit(client, requester, "10")
    assert client.post(f"/v1/batches/{r.json()['id']}/launch", headers=requester).is_success
    worker = signup(client, "worker")
    leased = []
    while (held := lease(client, project["id"], worker)) is not None:
        leased.append(held["task"])
        client.post(
            f"/v1/assignments/{held['id']}/release", json={"reason": "skipped"}, headers=worker
        )
    assert len(leased) == 13
    assert all(task["pre_annotation"] == guess for task in leased)


def test_a_gold_pre_annotation_is_checked_like_an_answer(client: TestClient) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    r = client.post(
        f"/v1/projects/{project['id']}/gold",
        headers=requester,
        files={"file": ("g.png", png(40, 30, (1, 9, 9)))},
        data={"answer": json.dumps({"label": "cat"}), "pre_annotation": '{"label": "zebra"}'},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"][:2] == ["body", "pre_annotation"]
