"""The importers' registry: every format of ``labels_format`` is read by one importer."""

from __future__ import annotations

from app.imports import IMPORTERS, LABEL_FORMATS


def test_every_labels_format_has_its_reader() -> None:
    assert set(LABEL_FORMATS) == {*IMPORTERS, "folders"}
    assert len(LABEL_FORMATS) == len(set(LABEL_FORMATS))
