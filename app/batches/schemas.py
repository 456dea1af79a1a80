from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, HttpUrl, model_validator

from app.core.schemas import InputModel, MoneyOut, OutputModel, Timestamp, schema_rules
from app.imports import LabelsFormat

_ONE_SOURCE = {
    "oneOf": [
        {
            "required": ["url"],
            "properties": {"url": {"type": "string"}, "data_base64": {"type": "null"}},
        },
        {
            "required": ["name", "data_base64"],
            "properties": {
                "url": {"type": "null"},
                "name": {"type": "string", "minLength": 1},
                "data_base64": {"type": "string"},
            },
        },
    ]
}
_GOLD_SOURCE = {
    "oneOf": [
        {
            "required": ["image_url"],
            "properties": {"image_url": {"type": "string"}, "image_base64": {"type": "null"}},
        },
        {
            "required": ["image_base64"],
            "properties": {"image_url": {"type": "null"}, "image_base64": {"type": "string"}},
        },
    ]
}


class ImageRef(InputModel):
    """One image: either ``{"url"}`` or ``{"name", "data_base64"}``."""

    model_config = ConfigDict(json_schema_extra=schema_rules(_ONE_SOURCE))

    url: HttpUrl | None = Field(default=None, description="http or https; fetched by the server.")
    name: str | None = Field(default=None, max_length=255)
    data_base64: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ImageRef:
        if (self.url is None) == (self.data_base64 is None):
            raise ValueError('give either "url" or "data_base64" (with "name")')
        if self.data_base64 is not None and not self.name:
            raise ValueError('"name" is required with "data_base64"')
        return self


class LabelFileRef(InputModel):
    """One label file (COCO JSON, a YOLO ``labels/…txt``, VOC XML…), as in a zip: its path
    names it (the format is detected from it and the content) and ``data_base64`` holds it."""

    name: str = Field(min_length=1, max_length=255)
    data_base64: str


class BatchCreateJSON(InputModel):
    images: list[ImageRef] = Field(min_length=1, max_length=10_000)
    pre_annotations: dict[str, Any] | None = Field(
        default=None,
        description="Optional starting answers keyed by image name, in the project's answer shape.",
    )
    labels: list[LabelFileRef] | None = Field(
        default=None,
        max_length=10_000,
        description="Label files that become pre-annotations of these images (by URL too: "
        "read at the size the file states, checked again once downloaded), reported per file "
        "in `upload_report.labels` (docs/EXPORTS.md, Imports).",
    )
    labels_format: LabelsFormat | None = Field(
        default=None,
        description="Read the label files in this format only (by default each file's format "
        "is detected).",
    )


class BatchMoney(OutputModel):
    escrowed: MoneyOut
    spent: MoneyOut
    refunded: MoneyOut


class BatchProgress(OutputModel):
    answers_used: int
    answers_max: int
    """The most answers the escrow pays for: every task at overlap.max, plus gold."""
    projected_answers: int
    projected_cost: MoneyOut
    """Rewards and fees the batch will likely spend in all, at the pace of dynamic overlap so far."""
    eta: Timestamp | None


class LaunchQuote(OutputModel):
    """What launching a draft now escrows: the most the batch can cost."""

    answers: int = Field(description="Tasks × overlap.max, plus the gold answers it pays for.")
    reward: MoneyOut
    fee: MoneyOut = Field(description="The platform fee per answer at today's rate.")
    total: MoneyOut


class BatchOut(OutputModel):
    id: str
    project_id: str
    status: str
    task_count: int
    counts: dict[str, int]
    money: BatchMoney
    progress: BatchProgress
    upload_report: dict[str, Any]
    launch_quote: LaunchQuote | None = Field(
        default=None, description="For a draft: what launching it now escrows."
    )
    reward: MoneyOut | None
    overlap: dict[str, int] | None
    created_at: Timestamp
    launched_at: Timestamp | None
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None


class BatchPage(OutputModel):
    items: list[BatchOut]
    next_cursor: str | None


class CompletionPoint(OutputModel):
    at: Timestamp
    completed: int = Field(description="Tasks completed by this moment (cumulative).")


class Completions(OutputModel):
    bucket_s: int = Field(description="Seconds between points (0 before any completion).")
    points: list[CompletionPoint] = Field(
        description="From the launch to the batch's end (or now), at most 49 points."
    )


class AnswersPerTask(OutputModel):
    histogram: list[int] = Field(
        description="Index k: completed tasks that took k answers (0 … the batch's max overlap)."
    )
    used: int = Field(description="Answers the completed tasks took.")
    fixed: int = Field(description="What a fixed overlap of max answers each would have taken.")
    saved: float | None = Field(description="1 − used / fixed: what dynamic overlap saved.")


class WorkerFigure(OutputModel):
    worker_id: str
    answers: int
    accepted: int
    rejected: int
    agreement: float | None = Field(
        description="Mean agreement of its answers with the consensus (None until graded)."
    )


class BatchStatsOut(OutputModel):
    tasks: int
    completed_tasks: int
    completions: Completions
    confidence: list[int] = Field(
        description="Completed tasks per tenth of confidence: [0, 0.1), … [0.9, 1]."
    )
    answers_per_task: AnswersPerTask
    workers: list[WorkerFigure] = Field(description="The 20 workers with the most answers.")
    worker_count: int = Field(description="Workers who answered this batch.")


class PredictionStart(OutputModel):
    """The answer started from a model's prediction (the task's pre-annotation when leased)."""

    model_id: str
    model_score: float = Field(description="The model's own score for its prediction, 0..1.")
    agreement: float = Field(
        description="How much of the prediction the answer kept, 0..1 (1: kept as it was), "
        "by `measure`."
    )
    unchanged: bool = Field(description="The answer is exactly the prediction.")
    measure: str = Field(
        description="label kept (classification), label overlap (multilabel), IoU (bbox), "
        "mask IoU (polygon, segmentation), OKS (keypoints)."
    )


class ResultAnswer(OutputModel):
    assignment_id: str
    worker_id: str
    answer: dict[str, Any] | None
    status: str
    reason: str | None
    submitted_at: Timestamp | None
    proposed_verdict: str | None = Field(
        default=None, description="What the consensus proposes while the answer awaits review."
    )
    agreement: float | None = Field(
        default=None, description="Agreement with the final consensus, 0..1."
    )
    appeal_message: str | None = None
    appealed_at: Timestamp | None = None
    appeal_outcome: str | None = None
    prediction: PredictionStart | None = Field(
        default=None, description="Set when the worker started from a model's prediction."
    )


class ResultItem(OutputModel):
    task_id: str
    image_name: str
    image_url: str
    thumbnail_url: str | None = Field(
        default=None, description="A small WebP of the image (256 px), signed like image_url."
    )
    width: int | None = None
    height: int | None = None
    completed_at: Timestamp | None = None
    status: str
    answer: dict[str, Any] | None
    confidence: float | None
    answer_count: int
    labeled_by: Literal["crowd", "model"] | None = Field(
        default=None,
        description='Who completed the task: "model" when auto-labelling completed it from the '
        'project\'s model predictions alone (no human answer), "crowd" when people did; null '
        "while it is open.",
    )
    audited: bool = Field(
        default=False,
        description="Drawn for auto-labelling's audit share: the models were sure enough to "
        "label it alone, and it went to people anyway (to keep their measured accuracy honest).",
    )
    answers: list[ResultAnswer] | None = None


class ResultPage(OutputModel):
    items: list[ResultItem]
    next_cursor: str | None


class ReviewItem(OutputModel):
    id: str
    task_id: str
    worker_id: str
    status: str
    answer: dict[str, Any] | None
    reason: str | None
    submitted_at: Timestamp | None


class ReviewPage(OutputModel):
    items: list[ReviewItem]
    next_cursor: str | None


class GoldOut(OutputModel):
    id: str
    project_id: str
    image_name: str
    image_url: str
    answer: dict[str, Any]
    pre_annotation: dict[str, Any] | None = None
    created_at: Timestamp


class GoldImportOut(OutputModel):
    """What ``POST /v1/projects/{id}/gold/import`` made."""

    items: list[GoldOut]
    """The gold tasks, one per image a label file answers, in upload order."""
    labels: list[dict[str, Any]]
    """One entry per label file (as ``upload_report.labels``), and ``(images)``: images no
    file answers (not made gold)."""
    duplicates: list[dict[str, str]]
    skipped: list[dict[str, str]]
    """Files inside a zip that are neither images nor label files, with the reason."""


class GoldJSON(InputModel):
    model_config = ConfigDict(json_schema_extra=schema_rules(_GOLD_SOURCE))

    name: str | None = Field(default=None, max_length=255)
    image_base64: str | None = None
    image_url: HttpUrl | None = None
    answer: Any
    pre_annotation: Any = Field(
        default=None,
        description="What the workers start from, as the batch's tasks have one (a model's "
        "prediction): give gold one whenever real tasks carry pre-annotations, or a gold "
        "task is the one without.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> GoldJSON:
        if (self.image_base64 is None) == (self.image_url is None):
            raise ValueError('give either "image_base64" or "image_url"')
        return self


class AddedImage(OutputModel):
    name: str
    sha256: str
    task_id: str


class BatchImagesOut(OutputModel):
    """What ``POST /v1/batches/{id}/images`` did with each image it was sent."""

    batch: BatchOut
    added: list[AddedImage]
    """Images that became new tasks of the batch."""
    present: list[AddedImage]
    """Images the batch already held (the same bytes, sent again): no new task."""
    duplicates: list[dict[str, str]]
    """Images repeated within this request."""
    skipped: list[dict[str, str]]
    """Files inside a zip that are not images, with the reason."""
    labels: list[dict[str, Any]] = Field(default_factory=list)
    """The request's label files, one entry per file, as in ``upload_report.labels``."""
