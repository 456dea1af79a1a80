"""Whatever JSON a client sends as an answer, validation raises AnswerInvalid or returns.

Three layers of strategies: any JSON value; JSON shaped like each answer type with random
leaves (to get past the top-level checks); masks of random bytes behind a valid PNG header.
"""

import base64
import json
import struct
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from tests.annotations.helpers import spec

SPECS = {
    "classification": spec("classification", ["cat", "dog"]),
    "multilabel": spec("multilabel", ["cat", "dog"]),
    "bbox": spec("bbox", ["cat", "dog"]),
    "polygon": spec("polygon", ["cat", "dog"]),
    "segmentation": spec("segmentation", ["cat", "dog"]),
    "keypoints": spec("keypoints", ["cat", "dog"], keypoints=["a", "b"], skeleton=[[0, 1]]),
}
WIDTH, HEIGHT = 8, 6

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,  # no .hypothesis/ directory written into the shared tree
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["cat", "dog", "", "a", "b", "Cat"])
    | st.text(max_size=10)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["label", "labels", "objects", "box", "points", "mask_png_base64", "x"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
coordinates = (
    st.integers(min_value=-2, max_value=WIDTH + 2)
    | st.floats(min_value=-1, max_value=WIDTH + 1)
    | scalars
)
labels = st.sampled_from(["cat", "dog", "object"]) | scalars


def objects_of(key: str, shape: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``{"objects": [...]}`` with mostly well-formed objects whose ``key`` holds ``shape``."""
    item = st.fixed_dictionaries(
        {"label": labels, key: shape | json_values}, optional={"score": json_values}
    )
    return st.fixed_dictionaries({"objects": st.lists(item | json_values, max_size=3)})


def tuples_of(size: int, element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists of about ``size`` elements (sometimes one more or less)."""
    return st.lists(element, min_size=max(size - 1, 0), max_size=size + 1)


SHAPED = {
    "classification": st.fixed_dictionaries({"label": labels}, optional={"x": json_values}),
    "multilabel": st.fixed_dictionaries({"labels": st.lists(labels, max_size=4) | json_values}),
    "bbox": objects_of("box", tuples_of(4, coordinates)),
    "polygon": objects_of("points", st.lists(tuples_of(2, coordinates), min_size=2, max_size=6)),
    "keypoints": objects_of(
        "points", tuples_of(2, tuples_of(3, coordinates | st.sampled_from([0, 1, 2, 3])))
    ),
    "segmentation": st.fixed_dictionaries({"mask_png_base64": st.text(max_size=20) | scalars}),
}


def _png_with_body(body: bytes, width: int, height: int, depth: int, colour: int) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body
    return base64.b64encode(png).decode("ascii")


masks = st.builds(
    _png_with_body,
    st.binary(max_size=64)
    | st.builds(lambda b: zlib.compress(b), st.binary(max_size=64)).map(
        lambda data: struct.pack(">I", len(data)) + b"IDAT" + data + b"\0\0\0\0"
    ),
    st.sampled_from([WIDTH, WIDTH + 1]),
    st.just(HEIGHT),
    st.sampled_from([1, 8, 16]),
    st.sampled_from([0, 2, 3, 6]),
).map(lambda text: {"mask_png_base64": text})


def only_answer_invalid(spec_: AnnotationSpec, answer: Any) -> None:
    try:
        result = validate_answer(spec_, answer, width=WIDTH, height=HEIGHT)
    except AnswerInvalid as error:
        problems = error.errors
    else:
        json.dumps(result, allow_nan=False)  # the normalised answer is storable as JSON
        return
    assert problems
    assert all(problem["loc"][0] == "answer" for problem in problems)
    json.dumps(problems, allow_nan=False)


@pytest.mark.parametrize("kind", sorted(SPECS))
@FUZZ
@given(answer=json_values)
def test_any_json_only_raises_answer_invalid(kind: str, answer: Any) -> None:
    only_answer_invalid(SPECS[kind], answer)


@pytest.mark.parametrize("kind", sorted(SPECS))
@FUZZ
@given(data=st.data())
def test_answer_shaped_json_only_raises_answer_invalid(kind: str, data: st.DataObject) -> None:
    only_answer_invalid(SPECS[kind], data.draw(SHAPED[kind]))


@FUZZ
@given(answer=masks)
def test_corrupt_png_only_raises_answer_invalid(answer: Any) -> None:
    only_answer_invalid(SPECS["segmentation"], answer)


specs = json_values | st.fixed_dictionaries(
    {"type": st.sampled_from([*SPECS, "cuboid"]) | scalars},
    optional={
        "labels": st.lists(scalars, max_size=4) | json_values,
        "keypoints": st.lists(scalars, max_size=4) | json_values,
        "skeleton": st.lists(st.lists(scalars, max_size=3), max_size=3) | json_values,
    },
)


@FUZZ
@given(data=specs)
def test_any_json_spec_raises_only_validation_errors(data: Any) -> None:
    try:
        AnnotationSpec.model_validate(data)
    except ValidationError:
        pass
