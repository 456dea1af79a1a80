"""The bridge from the service to the consensus library, per annotation type.

Everything the service asks of consensus goes through ``engine_for(spec)``: the consensus of
one task from its answers and the answering workers' accuracies, and each answer's agreement
with that consensus (a score against a threshold, and the evidence in words). Which engine a
type uses is the type's own choice (``AnnotationKind.engine``, app/annotations/types/), made
from the engines here; the services never import ``consensus`` directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from app.annotations import AnnotationSpec, annotation_kind
from consensus import WorkerSkills
from consensus.geometry import GeometrySkills, Kind, aggregate_records
from consensus.multilabel import MultiLabelAggregator, MultiLabelAnswers

# A worker no one has graded yet is assumed right this often (the Beta prior's mean, skills.py).
PRIOR_ACCURACY = 0.7
# Below this accuracy a geometry worker's marks carry no weight: what chance agreement scores.
GEOMETRY_CHANCE = 0.3
MODEL_PRIOR_ACCURACY = 0.0
"""A model no re-estimation has measured yet counts as chance (no weight): unlike a person, it
has not passed a qualification, and its weight is what its fitted skills on gold and agreement
say it has earned (``fitted``)."""


@dataclass(frozen=True)
class Consensus:
    answer: dict[str, Any]
    confidence: float
    object_confidences: list[float] | None = None


@dataclass(frozen=True)
class Judgement:
    score: float
    """Agreement with the consensus, 0..1 (what ``accepted`` compares with the threshold)."""
    threshold: float
    reason: str
    """The evidence, in words, whether accepted or not."""

    @property
    def accepted(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True)
class TaskAnswer:
    worker_id: str
    answer: dict[str, Any]
    accuracy: float = PRIOR_ACCURACY
    confusion: np.ndarray | None = None
    """Classification: the worker's submit-time confusion matrix (rows: true label, columns:
    answered, in the spec's label order; app.quality.skills.confusion_mean); None: one coin."""
    verified: np.ndarray | None = None
    """Classification: the same from the worker's gold answers alone (what ``leave_one_out``
    weighs the others with); None: one coin."""
    model: bool = False
    """A model's prediction (``worker_id`` is the model's id): weighted by its fitted skills like
    anyone's, but never judged, never paid, and left out of the calibration's design effect. A
    model no fit has measured is left out altogether (it has earned no weight yet)."""


def humans(answers: Sequence[TaskAnswer]) -> int:
    return sum(1 for a in answers if not a.model)


def measured(answers: Sequence[TaskAnswer], known: Container[str]) -> list[TaskAnswer]:
    """The answers that carry weight: everyone's, and the models' the last fit measured."""
    return [a for a in answers if not a.model or a.worker_id in known]


class Engine(Protocol):
    def consensus(self, answers: Sequence[TaskAnswer]) -> Consensus: ...

    def judge(self, answer: dict[str, Any], consensus: Consensus) -> Judgement: ...


def engine_for(
    spec: AnnotationSpec, *, width: int, height: int, fitted: dict[str, Any] | None = None
) -> Engine:
    """The engine of ``spec``'s type; ``fitted`` is the project's last re-estimated worker model
    (none for a type without one)."""
    engine: Engine = annotation_kind(spec.type).engine(
        spec, width=width, height=height, fitted=fitted
    )
    return engine


def classification_engine(
    spec: AnnotationSpec, *, fitted: dict[str, Any] | None, **_image: int
) -> ClassificationEngine:
    """One label per task: a one-coin (or re-estimated confusion) posterior over the labels."""
    return ClassificationEngine(
        list(spec.labels), WorkerSkills.from_dict(fitted) if fitted else None
    )


def multilabel_engine(
    spec: AnnotationSpec, *, fitted: dict[str, Any] | None = None, **_image: int
) -> MultilabelEngine:
    """Each label a yes/no question; ``fitted`` is the re-estimation's shared yes/no worker model
    (``fit_multilabel``): each worker's sensitivity and specificity, and each label's prior."""
    labels = list(spec.labels)
    if not fitted:
        return MultilabelEngine(labels)
    skills = WorkerSkills.from_dict(fitted)
    priors = fitted.get("label_prior") or {}
    return MultilabelEngine(
        labels, skills, [float(priors.get(label, skills.class_prior[1])) for label in labels]
    )


ConsensusKind = Callable[[AnnotationSpec, int, int], Kind]
"""``(spec, width, height) -> consensus.geometry.Kind``: how the library parses, aggregates
and compares one geometry type, configured for a project and an image."""


def geometry_engine(kind: ConsensusKind) -> Callable[..., GeometryEngine]:
    """The engine factory of a geometry type whose consensus ``kind`` builds."""

    def build(
        spec: AnnotationSpec, *, width: int, height: int, fitted: dict[str, Any] | None
    ) -> GeometryEngine:
        return GeometryEngine(
            kind(spec, width, height),
            fitted=GeometrySkills.from_dict(fitted) if fitted else None,
        )

    return build


def one_coin_skills(
    labels: list[str], answers: Sequence[TaskAnswer], fitted: WorkerSkills | None = None
) -> WorkerSkills:
    """Confusion matrices for the answering workers: the re-estimated matrix of a worker the
    last fit saw, else the worker's submit-time confusion matrix when it has one, else one coin
    from the worker's accuracy (right with probability ``accuracy``, else any other label
    alike). Class prior and calibration come from the fit."""
    k = len(labels)
    workers = sorted({a.worker_id for a in answers})
    accuracy = {a.worker_id: a.accuracy for a in answers}
    own: dict[str, np.ndarray] = {}
    for a in answers:
        if a.confusion is not None and a.confusion.shape == (k, k):
            own[a.worker_id] = a.confusion
    order = (
        [fitted.label_names.index(lab) for lab in labels]
        if fitted and set(fitted.label_names) == set(labels)
        else None
    )
    seen = {w: i for i, w in enumerate(fitted.worker_names)} if fitted and order else {}

    def matrix(worker: str | None, p: float) -> np.ndarray:
        if fitted is not None and order is not None and worker in seen:
            return np.asarray(fitted.confusion[seen[worker]][np.ix_(order, order)])
        if worker in own:
            return own[worker]
        p = min(max(p, 1.0 / k + 1e-3), 1 - 1e-6)  # no worse than chance: a spammer adds nothing
        off = (1.0 - p) / max(k - 1, 1)
        return np.full((k, k), off) + np.eye(k) * (p - off)

    prior = (
        fitted.class_prior[order]
        if fitted is not None and order is not None
        else np.full(k, 1.0 / k)
    )
    return WorkerSkills(
        label_names=labels,
        worker_names=workers,
        confusion=np.array([matrix(w, accuracy[w]) for w in workers]).reshape(len(workers), k, k),
        class_prior=prior,
        n_answers=np.zeros(len(workers)),
        expected_correct=np.zeros(len(workers)),
        default_confusion=matrix(None, PRIOR_ACCURACY),
        rho=fitted.rho if fitted is not None and order is not None else 0.0,
    )


@dataclass
class ClassificationEngine:
    labels: list[str]
    fitted: WorkerSkills | None = None

    def consensus(self, answers: Sequence[TaskAnswer]) -> Consensus:
        answers = measured(answers, self.fitted.worker_names if self.fitted else ())
        skills = one_coin_skills(self.labels, answers, self.fitted)
        p = skills.posterior(
            [a.answer["label"] for a in answers],
            [a.worker_id for a in answers],
            correlated=humans(answers),
        )
        best = int(np.argmax(p))
        return Consensus({"label": self.labels[best]}, float(p[best]))

    def leave_one_out(self, answers: Sequence[TaskAnswer]) -> list[np.ndarray]:
        """For each answer, the posterior over the true label from the *other* answers, each
        weighted by what gold says of its worker (``verified``; the class prior alone when
        there are no others): the evidence its worker's confusion row is graded with. A
        worker's own vote never vouches for itself, and workers who agree with each other but
        not with the gold (copying, colluding) cannot lift each other's record. A model's
        answer weighs in as its fit says (and not at all before a fit has measured it)."""
        answers = [
            replace(a, answer={"label": None}) if a.model and not self._knows(a) else a
            for a in answers
        ]
        skills = one_coin_skills(
            self.labels, [replace(a, confusion=a.verified) for a in answers], self.fitted
        )
        labels = [a.answer["label"] for a in answers]
        workers = [a.worker_id for a in answers]

        def others(i: int) -> np.ndarray:
            kept = [j for j in range(len(answers)) if j != i and labels[j] is not None]
            return np.asarray(
                skills.posterior([labels[j] for j in kept], [workers[j] for j in kept])
            )

        return [others(i) for i in range(len(answers))]

    def _knows(self, answer: TaskAnswer) -> bool:
        return self.fitted is not None and answer.worker_id in self.fitted.worker_names

    def judge(self, answer: dict[str, Any], consensus: Consensus) -> Judgement:
        agreed = answer["label"] == consensus.answer["label"]
        # No confidence in the words: the same reason for gold and real tasks (gold must not leak).
        reason = (
            f"label {answer['label']} matches the consensus"
            if agreed
            else f"label {answer['label']}; consensus {consensus.answer['label']}"
        )
        return Judgement(1.0 if agreed else 0.0, 0.5, reason)


@dataclass
class MultilabelEngine:
    """Each label is a yes/no question answered by every worker. Before any fit, one coin per
    worker (its running accuracy) serves all labels and a model has no weight; after one
    (``fitted``), a worker the fit saw answers with its own 2x2 matrix (sensitivity and
    specificity, from gold and agreement on every label at once), a model included, and each
    label has its own prior."""

    labels: list[str]
    fitted: WorkerSkills | None = None
    label_prior: list[float] | None = None
    """P(label applies), per label of ``labels`` (with ``fitted``)."""
    threshold: float = 0.5

    def consensus(self, answers: Sequence[TaskAnswer]) -> Consensus:
        # A model only weighs in once a fit has measured it.
        answers = measured(answers, self.fitted.worker_names if self.fitted else ())
        skills = one_coin_skills(["no", "yes"], answers, self.fitted)
        workers = [a.worker_id for a in answers]
        correlated = humans(answers)
        design = 1.0 + max(correlated - 1, 0) * skills.rho
        shared = float(skills.class_prior[1])
        chosen, confidences = [], []
        for i, label in enumerate(self.labels):
            votes = ["yes" if label in a.answer["labels"] else "no" for a in answers]
            p_yes = float(skills.posterior(votes, workers, correlated=correlated)[1])
            if self.label_prior is not None:
                # The label's own prior in place of the shared one: the posterior's log-odds
                # move by the difference of the priors' log-odds, tempered alike.
                shift = (_logit(self.label_prior[i]) - _logit(shared)) / design
                p_yes = 1.0 / (1.0 + float(np.exp(-(_logit(p_yes) + shift))))
            if p_yes > 0.5:
                chosen.append(label)
            confidences.append(max(p_yes, 1 - p_yes))
        # The whole answer is right only if every label is: the weakest label bounds it.
        return Consensus({"labels": chosen}, min(confidences), confidences)

    def judge(self, answer: dict[str, Any], consensus: Consensus) -> Judgement:
        given, agreed = set(answer["labels"]), set(consensus.answer["labels"])
        union = given | agreed
        score = 1.0 if not union else len(given & agreed) / len(union)
        missing, extra = sorted(agreed - given), sorted(given - agreed)
        parts = [f"missed {', '.join(missing)}"] if missing else []
        parts += [f"added {', '.join(extra)}"] if extra else []
        detail = "; ".join(parts) or "same labels as the consensus"
        return Judgement(
            score,
            self.threshold,
            f"label overlap {score:.2f} (threshold {self.threshold:g}): {detail}",
        )


@dataclass
class GeometryEngine:
    """Reliability-weighted geometric consensus. A worker the last re-estimation saw is weighted
    by its fitted skills (localisation and presence apart); anyone else by its running accuracy."""

    kind: Kind
    fitted: GeometrySkills | None = None

    def consensus(self, answers: Sequence[TaskAnswer]) -> Consensus:
        weighed = measured(answers, self.fitted.workers if self.fitted is not None else ())
        unweighed = bool(answers) and not weighed
        if not unweighed:
            answers = weighed
        parsed = [self.kind.parse(a.answer) for a in answers]
        weights = np.array([self._weight(a, presence=False) for a in answers])
        presence = np.array([self._weight(a, presence=True) for a in answers])
        if unweighed:
            # Only models no fit has measured: their shapes, with no confidence at all.
            weights, presence = np.full(len(answers), 1e-6), np.full(len(answers), 1e-6)
        result = self.kind.aggregate(parsed, weights, presence)
        per_object = getattr(result, "object_confidence", None)
        return Consensus(
            self.kind.dump(result),
            0.0 if unweighed else float(result.confidence),
            [0.0 if unweighed else round(float(c), 4) for c in per_object]
            if per_object is not None
            else None,
        )

    def _weight(self, answer: TaskAnswer, *, presence: bool) -> float:
        if self.fitted is not None and answer.worker_id in self.fitted.workers:
            w = self.fitted.presence_weight if presence else self.fitted.weight
            return float(w(answer.worker_id))
        return _geometry_weight(answer.accuracy)

    def judge(self, answer: dict[str, Any], consensus: Consensus) -> Judgement:
        agreement = self.kind.agree(self.kind.parse(answer), self.kind.parse(consensus.answer))
        reason = (
            agreement.reason
            or f"agreement {agreement.score:.2f} ≥ {agreement.threshold:g} with the consensus"
        )
        return Judgement(float(agreement.score), float(agreement.threshold), reason)


def fit_geometry(
    spec: AnnotationSpec, records: list[dict[str, Any]], gold: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Worker skills for a geometry project from all its answers (leave-one-out consensus
    agreement) and gold: the periodic re-estimation. One pass: each is a full consensus of every
    task, and the service already grades workers as each task completes."""
    _, skills = aggregate_records(
        spec.type,
        records,
        gold=gold,
        keypoint_names=list(spec.keypoints) if spec.keypoints else None,
        n_passes=1,
    )
    return skills


def fit_multilabel(
    spec: AnnotationSpec,
    records: Sequence[tuple[str, str, Sequence[str]]],
    gold: Mapping[str, Sequence[str]],
    *,
    models: Container[str] = (),
) -> dict[str, Any]:
    """The shared yes/no worker model of a multi-label project from all its answers
    ``(task, worker, labels)`` and gold: every (task, label) pair one yes/no question, EM over
    them all (``consensus.multilabel``). ``models``: which workers are models (their
    predictions are among the records); their matrices rest on gold first
    (``rest_models_on_gold``, each gold (task, label) pair one gold answer). Stored as the
    ``WorkerSkills`` JSON over ``["no", "yes"]`` plus ``label_prior``."""
    tasks, workers, sets = zip(*records, strict=True) if records else ((), (), ())
    labels = list(spec.labels)
    fit = MultiLabelAggregator().fit(
        MultiLabelAnswers.from_records(tasks, workers, sets), gold, labels=labels
    )
    on_gold = gold_counts(
        ["no", "yes"],
        (
            (f"{t}\x00{lab}", w, "yes" if lab in given else "no")
            for t, w, given in records
            if w in models and t in gold
            for lab in labels
        ),
        {
            f"{t}\x00{lab}": "yes" if lab in truth else "no"
            for t, truth in gold.items()
            for lab in labels
        },
        models,
    )
    state = rest_models_on_gold(fit.skills_, on_gold).to_dict()
    state["label_prior"] = {
        str(label): round(float(p), 6)
        for label, p in zip(fit.label_names_, fit.label_prior_, strict=True)
    }
    return state


MODEL_MIN_GOLD = 30
"""Gold answers a model needs before its gold record may overrule its fitted matrix (as many
as ``Auto`` needs to measure its calibration on gold: fewer say too little per row)."""
MODEL_GOLD_CREDIBILITY = 0.8
"""The central credible interval of the model's balanced accuracy on gold that the fitted
matrix's must fall in to stand."""
MODEL_GOLD_PRIOR = 2.0
"""Pseudo-answers per row the fitted matrix weighs as a prior on the gold record when the gold
record replaces it (a row gold has barely seen keeps about the fitted row)."""
_GOLD_DRAWS = 400


def gold_counts(
    labels: Sequence[str],
    answers: Iterable[tuple[str, str, str | None]],
    gold: Mapping[str, str | None],
    models: Container[str],
) -> dict[str, np.ndarray]:
    """Per model, ``counts[true, answered]`` of its answers ``(task, worker, label)`` on gold
    tasks (other workers' and labels outside ``labels`` skipped)."""
    index = {lab: i for i, lab in enumerate(labels)}
    out: dict[str, np.ndarray] = {}
    for task, worker, given in answers:
        truth = gold.get(task)
        if worker not in models or truth not in index or given not in index:
            continue
        counts = out.setdefault(worker, np.zeros((len(labels), len(labels))))
        counts[index[truth], index[given]] += 1.0
    return out


def rest_models_on_gold(skills: WorkerSkills, counts: Mapping[str, np.ndarray]) -> WorkerSkills:
    """Gold first for models: a model with ``MODEL_MIN_GOLD`` gold answers keeps its fitted
    confusion matrix only if the matrix's balanced accuracy lies within the credible interval
    of its balanced accuracy on gold alone; otherwise each row becomes its gold record, with
    the fitted row as a prior worth ``MODEL_GOLD_PRIOR`` answers.

    Why: agreement judges a model by the crowd. Where the crowd errs together (the same hard
    items fool most people), a model that is right there looks wrong, and the fit underrates a
    good model (a 0.9 model fitted at 0.61 on the *face* crowd, benchmarks/README.md); and
    agreement can overrate one that errs like the crowd. Gold cannot be fooled either way.
    ``counts``: per model id, its answers on gold ``[true, answered]`` (``gold_counts``); the
    gold answers must be ones the model gave without seeing the gold (the builtin model's
    are predicted by a fit that left the gold out: app.annotators.learning)."""
    k = len(skills.label_names)
    index = {w: i for i, w in enumerate(skills.worker_names)}
    confusion = skills.confusion.copy()
    expected = skills.expected_correct.copy()
    for model, c in counts.items():
        i = index.get(model)
        if i is None or c.shape != (k, k) or c.sum() < MODEL_MIN_GOLD:
            continue
        fitted = confusion[i]
        lo, hi = _balanced_interval(c)
        if lo <= float(np.diagonal(fitted).mean()) <= hi:
            continue  # agreement and gold tell the same story: the fit's precision stands
        alpha = MODEL_GOLD_PRIOR * fitted + c
        confusion[i] = alpha / alpha.sum(axis=1, keepdims=True)
        expected[i] = skills.n_answers[i] * float(skills.class_prior @ np.diagonal(confusion[i]))
    return replace(skills, confusion=confusion, expected_correct=expected)


def _balanced_interval(counts: np.ndarray) -> tuple[float, float]:
    """The central ``MODEL_GOLD_CREDIBILITY`` interval of the balanced accuracy under the
    Dirichlet posterior of ``counts`` (a flat prior of one pseudo-answer per row), from draws
    seeded by the counts (the same counts, the same interval)."""
    k = counts.shape[0]
    alpha = np.full((k, k), 1.0 / k) + counts
    seed = int.from_bytes(hashlib.blake2b(alpha.tobytes(), digest_size=8).digest(), "big")
    draws = np.random.default_rng(seed).gamma(alpha, size=(_GOLD_DRAWS, k, k))
    draws /= draws.sum(axis=-1, keepdims=True)
    balanced = np.diagonal(draws, axis1=-2, axis2=-1).mean(axis=-1)
    tail = (1.0 - MODEL_GOLD_CREDIBILITY) / 2
    return float(np.quantile(balanced, tail)), float(np.quantile(balanced, 1.0 - tail))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))


def _geometry_weight(accuracy: float) -> float:
    return float(np.clip((accuracy - GEOMETRY_CHANCE) / (1 - GEOMETRY_CHANCE), 0.0, 1.0))
