from __future__ import annotations

import json
import time

import numpy as np
import pytest

from consensus import Answers, Auto, DawidSkene, InputError, WorkerSkills, posterior_for_task


def _task_answers(a: Answers, t: int) -> tuple[list[str], list[str]]:
    rows = np.flatnonzero(a.task == t)
    return a.label_names[a.label[rows]].tolist(), a.worker_names[a.worker[rows]].tolist()


class TestPosteriorForTask:
    @pytest.mark.parametrize("model", [DawidSkene(), Auto(), Auto(rho=0.7)])
    def test_equals_batch_posterior(
        self, crowd: tuple[Answers, np.ndarray], model: DawidSkene
    ) -> None:
        a, _ = crowd
        model.fit(a)
        for t in range(0, a.n_tasks, 37):
            labels, workers = _task_answers(a, t)
            p = posterior_for_task(labels, workers, model.skills_)
            np.testing.assert_allclose([p[n] for n in a.label_names], model.probas_[t], atol=1e-10)

    def test_unknown_worker_uses_population(self, crowd: tuple[Answers, np.ndarray]) -> None:
        a, _ = crowd
        sk = DawidSkene().fit(a).skills_
        p = sk.posterior(["1", "1"], ["new-1", "new-2"])
        assert p.argmax() == 1
        assert 0.5 < p.max() < 1.0

    def test_unknown_label_raises(self, crowd: tuple[Answers, np.ndarray]) -> None:
        sk = DawidSkene().fit(crowd[0]).skills_
        with pytest.raises(InputError):
            sk.posterior(["zebra"], ["0"])

    def test_no_answers_gives_prior(self, crowd: tuple[Answers, np.ndarray]) -> None:
        sk = DawidSkene().fit(crowd[0]).skills_
        np.testing.assert_allclose(sk.posterior([], []), sk.class_prior / sk.class_prior.sum())

    def test_is_fast(self, crowd: tuple[Answers, np.ndarray]) -> None:
        a, _ = crowd
        sk = Auto().fit(a).skills_
        labels, workers = _task_answers(a, 0)
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            sk.posterior(labels, workers)
        per_call = (time.perf_counter() - start) / n
        assert per_call < 500e-6  # microseconds in practice; loose for a loaded CI machine


class TestSkillsJson:
    def test_round_trip_through_json(self, crowd: tuple[Answers, np.ndarray]) -> None:
        a, _ = crowd
        sk = Auto().fit(a).skills_
        back = WorkerSkills.from_dict(json.loads(json.dumps(sk.to_dict())))
        labels, workers = _task_answers(a, 3)
        np.testing.assert_allclose(back.posterior(labels, workers), sk.posterior(labels, workers))
        np.testing.assert_allclose(back.accuracy, sk.accuracy)
        assert back.rho == sk.rho

    def test_wrong_version_rejected(self) -> None:
        with pytest.raises(InputError):
            WorkerSkills.from_dict({"version": 99})
