"""Labels written by a real tool import as well as Tessera's own: Datumaro reads an export and
writes it in its own VOC, CVAT, Datumaro and COCO writers (layouts, names and rounding of its
own: ``default.xml``, flattened media paths, 1-based VOC boxes), and the upload of that folder
gives every image the workers' answer back (±0.5 px; VOC ±1 px: Datumaro's VOC boxes are
0-based, the format's are 1-based pixels, so they come back one pixel up and left).
Datumaro runs in its own venv (``.venv-datumaro``, scripts/setup), as in tests/exports."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.exports.shapes import Shape
from tests.app.test_label_imports import _pre_annotations, _same_shapes, _shapes
from tests.exports.sample import sample
from tests.factories import make_project, signup

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-datumaro" / "bin" / "python"
CONVERT = ROOT / "tests" / "exports" / "datumaro_convert.py"

CASES = [
    ("bbox", "voc"),
    ("bbox", "cvat"),
    ("bbox", "datumaro"),
    ("bbox", "coco"),
    ("polygon", "cvat"),
    ("polygon", "datumaro"),
    ("polygon", "coco"),
]


def _order(shape: Shape) -> tuple[str, list[tuple[float, float]]]:
    return shape.label, shape.points


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "fmt"), CASES)
def test_files_datumaro_writes_import(
    client: TestClient, tmp_path: Path, kind: str, fmt: str
) -> None:
    assert PYTHON.exists(), "run scripts/setup: it makes .venv-datumaro"
    data = sample(kind)
    source = data.unpack("coco", tmp_path / "coco")
    out = tmp_path / fmt
    subprocess.run(
        [str(PYTHON), str(CONVERT), str(source), "coco", str(out), fmt],
        check=True,
        capture_output=True,
        timeout=300,
    )
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=data.spec.model_dump(exclude_none=True))
    r = client.post(
        f"/v1/projects/{project['id']}/batches",
        files=[("files", (f"{fmt}.zip", _zip(out), "application/zip"))],
        headers=requester,
    )
    assert r.status_code == 201, r.text
    report = r.json()["upload_report"]["labels"]
    assert all("problems" not in entry for entry in report), report
    pre = _pre_annotations(client, r.json()["id"])
    # Datumaro's own writer flattens media paths (train/cat.jpg → images/default/train_cat.jpg);
    # its item ids keep the folders, and the labels find their images by them.
    named = (lambda n: n.replace("/", "_")) if fmt == "datumaro" else (lambda n: n)
    assert set(pre) == {named(i.image_name) for i in data.items}, report
    for entry in data.items:
        got = pre[named(entry.image_name)]
        if entry.answer is None:
            assert got is None, entry.image_name
            continue
        assert got is not None, (entry.image_name, report)
        _same_shapes(  # Datumaro may reorder an image's objects
            sorted(_shapes(data, entry.image_name, entry.answer), key=_order),
            sorted(_shapes(data, entry.image_name, got), key=_order),
            # VOC is 1-based whole pixels; Datumaro writes its boxes 0-based as they are, so its
            # files come back one pixel up and left (plus float32 noise).
            1.001 if fmt == "voc" else 0.5,
            f"{fmt} {entry.image_name}",
        )
