"""Errors of label imports."""

from __future__ import annotations

from app.core.errors import Unprocessable


class LabelFileInvalid(Unprocessable):
    """A label file that cannot be read at all (not JSON, not XML, a YOLO line of words, a
    COCO annotation without its fields): the upload is refused and nothing is stored. What does
    not *match* (an image or a label the project lacks) is reported instead, never refused."""

    type, title = "label-file-invalid", "A label file cannot be read"

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(
            f"{file}: {reason}",
            errors=[{"loc": ["body", "labels", file], "msg": reason}],
            extra={"file": file},
        )
