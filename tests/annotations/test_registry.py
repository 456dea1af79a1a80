"""Every registered annotation type has every piece: spec, validation, consensus, verdicts in
words, export writers, a web tool and (when it fits one) a worker model the library can fit."""

from __future__ import annotations

import dataclasses
import io
import pkgutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

import app.annotations.types
from app.annotations import (
    AnnotationKind,
    AnnotationSpec,
    UnknownAnnotationType,
    annotation_kind,
    annotation_kinds,
    type_names,
    validate_answer,
)
from app.annotations.registry import TYPE_MODULES
from app.exports import FORMATS, ExportItem, export
from app.quality.engine import TaskAnswer, engine_for, fit_geometry, fit_multilabel
from consensus.geometry import KINDS

WIDTH, HEIGHT = 100, 80
WEB_TOOLS = Path(__file__).resolve().parents[2] / "web" / "src" / "tools"
KINDS_BY_NAME = {kind.name: kind for kind in annotation_kinds()}


def test_every_module_of_the_types_package_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(app.annotations.types.__path__)}
    assert modules == set(TYPE_MODULES)
    assert type_names() == tuple(KINDS_BY_NAME) == TYPE_MODULES


def test_a_kind_missing_a_piece_cannot_be_built() -> None:
    pieces = {f.name: None for f in dataclasses.fields(AnnotationKind)}
    del pieces["tool"]
    with pytest.raises(TypeError, match="tool"):
        AnnotationKind(**pieces)  # type: ignore[arg-type]


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownAnnotationType, match="expected one of: classification"):
        annotation_kind("cuboid")


@pytest.fixture(params=list(KINDS_BY_NAME))
def kind(request: pytest.FixtureRequest) -> AnnotationKind:
    return KINDS_BY_NAME[request.param]


def _spec(kind: AnnotationKind) -> AnnotationSpec:
    spec = AnnotationSpec.model_validate(dict(kind.example_spec))
    assert spec.type == kind.name
    return spec


def _answers(kind: AnnotationKind) -> list[dict[str, Any]]:
    spec = _spec(kind)
    return [
        validate_answer(spec, dict(a), width=WIDTH, height=HEIGHT) for a in kind.example_answers
    ]


def test_spec_and_answers_validate(kind: AnnotationKind) -> None:
    assert kind.summary
    assert kind.summary.endswith(".")
    assert len(kind.example_answers) >= 3
    assert len(_answers(kind)) == len(kind.example_answers)


def test_consensus_and_verdicts_in_words(kind: AnnotationKind) -> None:
    spec = _spec(kind)
    first, second, *_, odd = _answers(kind)
    engine = engine_for(spec, width=WIDTH, height=HEIGHT, fitted=None)
    consensus = engine.consensus([TaskAnswer("w1", first), TaskAnswer("w2", second)])
    assert 0.0 <= consensus.confidence <= 1.0
    validate_answer(spec, consensus.answer, width=WIDTH, height=HEIGHT)
    agreed, disagreed = engine.judge(first, consensus), engine.judge(odd, consensus)
    assert agreed.accepted
    assert agreed.reason
    assert not disagreed.accepted
    assert disagreed.reason
    assert disagreed.reason != agreed.reason


def test_every_format_writes(kind: AnnotationKind) -> None:
    spec = _spec(kind)
    answers = _answers(kind)
    assert kind.formats, "a type offers at least one download"
    assert set(kind.formats) <= set(FORMATS)
    for name in kind.formats:
        items = [
            ExportItem(f"tsk_{i}", f"img {i}.png", WIDTH, HEIGHT, a, 0.9, 2)
            for i, a in enumerate([*answers, None])
        ]
        if not kind.formats[name].images_required:
            assert b"".join(export(name, spec, items).chunks)
        data = b"".join(export(name, spec, items, images=lambda i: i.task_id.encode()).chunks)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            stored = {archive.read(n) for n in archive.namelist()}
        assert {b"tsk_0", b"tsk_1"} <= stored, f"{name}: the images are in the zip"


def test_worker_model_is_one_the_library_fits(kind: AnnotationKind) -> None:
    assert kind.worker_model in ("confusion", "multilabel", "geometry", None)
    if kind.worker_model == "multilabel":
        sets = [("t", f"w{i}", a["labels"]) for i, a in enumerate(_answers(kind))]
        state = fit_multilabel(_spec(kind), sets, {})
        assert state["label_names"] == ["no", "yes"]
        assert set(state["label_prior"]) == set(_spec(kind).labels)
        return
    if kind.worker_model != "geometry":
        return
    assert kind.name in KINDS, "geometry skills are fitted by consensus.geometry.KINDS[type]"
    records = [{"task": "t", "worker": f"w{i}", "answer": a} for i, a in enumerate(_answers(kind))]
    assert fit_geometry(_spec(kind), records, {})["type"] == kind.name


def test_web_tool_is_named_and_exists(kind: AnnotationKind) -> None:
    assert kind.tool.isidentifier()
    if WEB_TOOLS.is_dir():  # the web app ships one tool module per annotation type
        assert (WEB_TOOLS / f"{kind.tool}.ts").is_file(), f"web/src/tools/{kind.tool}.ts"
