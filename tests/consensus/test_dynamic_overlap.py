from __future__ import annotations

import numpy as np

from consensus import Answers, Auto
from consensus.dynamic_overlap import StoppingRule


class TestStoppingRule:
    def test_min_overlap_guards_a_lucky_first_answer(self) -> None:
        assert not StoppingRule(target=0.5, min_overlap=2).is_complete(0.99, 1)

    def test_max_overlap_always_stops(self) -> None:
        assert StoppingRule(target=0.99, max_overlap=3).is_complete(0.4, 3)

    def test_decide_uses_skills(self, crowd: tuple[Answers, np.ndarray]) -> None:
        a, _ = crowd
        sk = Auto().fit(a).skills_
        rule = StoppingRule(target=0.8, min_overlap=2, max_overlap=5)
        good = [sk.worker_names[i] for i in np.argsort(-sk.accuracy)[:3]]
        agree = rule.decide(["1"] * 3, good, sk)
        assert (agree.complete, agree.label, agree.reason) == (True, "1", "confident")
        split = rule.decide(["0", "1"], good[:2], sk)
        assert (split.complete, split.reason) == (False, "not_confident")

    def test_no_answers(self, crowd: tuple[Answers, np.ndarray]) -> None:
        sk = Auto().fit(crowd[0]).skills_
        d = StoppingRule().decide([], [], sk)
        assert (d.complete, d.label) == (False, None)
