"""The types every exporter shares: the input item, the output export and the refusal."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = [
    "AnswerStart",
    "Export",
    "ExportFormat",
    "ExportItem",
    "ExportNotAvailable",
    "ImageReader",
    "PredictionFacts",
    "Writer",
    "label_index",
    "object_confidence",
]


@dataclass(frozen=True, slots=True)
class AnswerStart:
    """One answer that started from the task's model prediction, and how much it kept of it."""

    assignment_id: str
    worker_id: str
    agreement: float
    """The answer's agreement with the prediction by ``PredictionFacts.measure``, 0..1."""
    unchanged: bool


@dataclass(frozen=True, slots=True)
class PredictionFacts:
    """The task's pre-annotation was a model's prediction: which, its score, and what the
    answers that started from it did with it (the JSON results' ``answers[].prediction``)."""

    model_id: str
    model_score: float
    measure: str
    """label kept, label overlap, IoU, mask IoU or OKS (``app.annotators.starts.MEASURES``)."""
    answers: tuple[AnswerStart, ...] = ()

    @property
    def kept(self) -> float | None:
        """The mean agreement of those answers with the prediction (None: no answer)."""
        if not self.answers:
            return None
        return round(sum(a.agreement for a in self.answers) / len(self.answers), 4)

    @property
    def unchanged(self) -> int:
        return sum(1 for a in self.answers if a.unchanged)

    def to_json(self) -> dict[str, Any]:
        """The facts as JSON (COCO's ``tessera_prediction``, Label Studio's ``meta``)."""
        return {
            "model_id": self.model_id,
            "model_score": self.model_score,
            "measure": self.measure,
            "answers": [
                {
                    "assignment_id": a.assignment_id,
                    "worker_id": a.worker_id,
                    "agreement": a.agreement,
                    "unchanged": a.unchanged,
                }
                for a in self.answers
            ],
        }


PREDICTION_COLUMNS = (
    "labeled_by",
    "prediction_model",
    "prediction_score",
    "answers_from_prediction",
    "prediction_kept",
    "prediction_unchanged",
)
"""The flat columns of who labelled a task and what its answers did with a model's prediction:
the CSV's and ``tessera/manifest.csv``'s last columns (``prediction_cells``)."""


def prediction_cells(item: ExportItem) -> list[str]:
    """``PREDICTION_COLUMNS``' cells of one item: ``labeled_by`` ``crowd``/``model`` (empty
    while open); without a model's pre-annotation the prediction cells are empty; with one,
    how many answers started from it, their mean agreement with it (empty with none) and how
    many kept it exactly."""
    p = item.prediction
    if p is None:
        return [item.labeled_by or "", "", "", "", "", ""]
    kept = p.kept
    return [
        item.labeled_by or "",
        p.model_id,
        repr(float(p.model_score)),
        str(len(p.answers)),
        "" if kept is None else repr(kept),
        str(p.unchanged),
    ]


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One task of a batch, as the exporters see it.

    ``answer`` is the consensus answer in API.md's shape ("Answers"), or ``None`` while the task
    has no consensus yet. Such an image is still exported, with no objects (an empty YOLO label
    file, a VOC file without ``object``, a COCO image without annotations, an all-zero mask, an
    empty CSV label), never dropped; every zip's ``tessera/manifest.csv`` says which images had one.
    ``object_confidences`` are per consensus object, in the order of ``answer["objects"]``.
    """

    task_id: str
    image_name: str
    width: int
    height: int
    answer: dict[str, Any] | None
    confidence: float | None = None
    answer_count: int = 0
    object_confidences: list[float] | None = field(default=None)
    image_sha256: str | None = None
    """Where the image's bytes are in the image store (read only for exports with images)."""
    labeled_by: str | None = None
    """``crowd`` or ``model`` (auto-labelled) once the task is completed; None while open."""
    prediction: PredictionFacts | None = None
    """Set when the task's pre-annotation was a model's prediction."""


@dataclass(frozen=True, slots=True)
class Export:
    """An export ready to stream: ``chunks`` is lazy and reads the items as it is consumed.

    The HTTP layer sends ``chunks`` as the body with ``media_type`` and names the download
    ``<something><filename_suffix>`` (e.g. ``bat_123_coco.json``). Closing ``chunks`` early
    (client gone) releases the temporary spools at once.
    """

    format: str
    media_type: str
    filename_suffix: str
    chunks: Generator[bytes, None, None]


ImageReader = Callable[[ExportItem], bytes]
"""The bytes of an item's image (``ImageStore.get`` of its ``image_sha256``); one at a time."""

Writer = Callable[["AnnotationSpec", Iterable[ExportItem], ImageReader | None], Iterator[bytes]]
"""Writes a whole export: reads the items once, lazily, and yields the file's bytes; with an
``ImageReader`` the images go into the archive too, each read just before it is written."""


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One file format as an annotation type offers it (``AnnotationKind.formats``).

    ``media_type`` and ``filename_suffix`` are the download's without images; a format that is
    not a zip by itself (COCO JSON, CSV) becomes one with images: ``application/zip`` named
    ``zip_suffix``. ``images_required``: the images are the data (class folders), always in.
    """

    media_type: str
    filename_suffix: str
    writer: Writer
    zip_suffix: str | None = None
    images_required: bool = False
    json_schema: Mapping[str, Any] | None = None
    """A JSON download's shape (its top level), as the OpenAPI document states it for the
    results endpoint; required when ``media_type`` is ``application/json``."""

    def packaging(self, with_images: bool) -> tuple[str, str]:
        """``(media_type, filename_suffix)`` of the download, with or without images."""
        if with_images and self.zip_suffix is not None:
            return "application/zip", self.zip_suffix
        return self.media_type, self.filename_suffix


class ExportNotAvailable(ValueError):
    """The format is unknown, or does not exist for the project's annotation type.

    ``available`` lists the formats that do exist for that type; ``str(exc)`` is a sentence
    fit for an API problem ``detail``.
    """

    def __init__(self, format: str, annotation_type: str, available: tuple[str, ...]) -> None:
        self.format = format
        self.annotation_type = annotation_type
        self.available = available
        choices = ", ".join(available) if available else "none"
        super().__init__(
            f"format {format!r} is not available for {annotation_type} projects; "
            f"available formats: {choices}"
        )


def label_index(spec: AnnotationSpec) -> dict[str, int]:
    """Map each label to its 0-based position in the spec."""
    return {label: index for index, label in enumerate(spec.labels)}


def class_of(labels: dict[str, int], label: str, task_id: str) -> int:
    """The 0-based class of ``label``; a label outside the spec is a data error, not skipped."""
    try:
        return labels[label]
    except KeyError:
        raise ValueError(
            f"task {task_id}: label {label!r} is not in the project's labels"
        ) from None


def objects_of(item: ExportItem) -> list[dict[str, Any]]:
    """The consensus objects of a bbox, polygon or keypoints item ([] without a consensus)."""
    if item.answer is None:
        return []
    objects = item.answer.get("objects", [])
    return objects if isinstance(objects, list) else []


def object_confidence(item: ExportItem, index: int) -> float | None:
    """The confidence of object ``index``, falling back to the item's own confidence."""
    per_object = item.object_confidences
    if per_object is not None and index < len(per_object):
        return float(per_object[index])
    return item.confidence
