"""Typed responses. Each model names the OpenAPI component it mirrors (``schema``); a test checks
every field, its type and whether it is required against the service's OpenAPI document. Unknown
fields are kept (``extra="allow"``), so a newer server never breaks an older client."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    schema_name: ClassVar[str] = ""


class Page(BaseModel, Generic[T]):
    """One page of a paginated list; the client's ``iter_*`` methods walk all of them."""

    items: list[T]
    next_cursor: str | None = None


class AccountCreated(Model):
    schema_name = "AccountCreated"
    id: str
    role: str
    name: str
    email: str | None = None
    api_key: str
    created_at: datetime


class Me(Model):
    schema_name = "Me"
    id: str
    role: str
    name: str
    email: str | None = None
    created_at: datetime
    balance: dict[str, Decimal]


class ApiKey(Model):
    schema_name = "ApiKeyOut"
    id: str
    name: str
    prefix: str
    created_at: datetime


class ApiKeyCreated(Model):
    schema_name = "ApiKeyCreated"
    id: str
    name: str
    prefix: str
    created_at: datetime
    api_key: str


class Deposit(Model):
    schema_name = "DepositOut"
    id: str
    amount: Decimal
    balance: dict[str, Decimal]


class LedgerEntry(Model):
    schema_name = "LedgerEntryOut"
    id: int
    transaction_id: str
    kind: str
    reference: str
    account: str
    owner: str
    amount: Decimal
    created_at: datetime


class Payout(Model):
    schema_name = "PayoutOut"
    id: str
    amount: Decimal
    status: str
    failure_reason: str | None
    created_at: datetime
    settled_at: datetime | None


class Project(Model):
    schema_name = "ProjectOut"
    id: str
    name: str
    instructions: str
    annotation: dict[str, Any]
    reward: Decimal
    overlap: dict[str, Any]
    confidence: float
    gold_rate: float
    qualification: dict[str, Any]
    ban_below_accuracy: float
    assignment_duration_s: int
    auto_accept_s: int
    min_answer_s: int
    fast_answers_to_ban: int
    auto_label: bool = False
    auto_label_audit: float = 0.1
    status: str
    export_formats: list[str] = []  # the results formats of the project's type (besides json)
    created_at: datetime
    updated_at: datetime


class ModelReliability(Model):
    """What the last re-estimation measured of a model as one more answerer."""

    schema_name = "ModelReliability"
    measure: str
    value: float
    uncertainty: float | None = None
    answers: float
    measured_at: datetime | None = None


class AnnotatorModel(Model):
    """A model attached to a project (``http`` model server or ``builtin`` classifier)."""

    schema_name = "ModelOut"
    id: str
    project_id: str
    kind: str
    name: str
    url: str | None = None
    timeout_s: float | None = None
    trained_on: int = 0
    fitted_at: datetime | None = None
    predictions: int = 0
    failed_calls: int = 0
    last_error: str | None = None
    reliability: ModelReliability | None = None
    created_at: datetime


class AnnotatorModelCreated(AnnotatorModel):
    schema_name = "ModelCreated"
    signing_secret: str | None = None


class OpenProject(Model):
    """A project as a worker sees it in ``GET /v1/projects``."""

    schema_name = "OpenProjectOut"
    id: str
    name: str
    instructions: str
    annotation: dict[str, Any]
    reward: Decimal
    assignment_duration_s: int
    available_tasks: int
    qualification_gold_tasks: int = 0


class BatchMoney(Model):
    schema_name = "BatchMoney"
    escrowed: Decimal
    spent: Decimal
    refunded: Decimal


class BatchProgress(Model):
    schema_name = "BatchProgress"
    answers_used: int
    answers_max: int
    projected_answers: int
    projected_cost: Decimal
    eta: datetime | None


class LaunchQuote(Model):
    """What launching a draft now escrows: the most the batch can cost."""

    schema_name = "LaunchQuote"
    answers: int
    reward: Decimal
    fee: Decimal
    total: Decimal


class Batch(Model):
    schema_name = "BatchOut"
    id: str
    project_id: str
    status: str
    task_count: int
    counts: dict[str, int]
    money: BatchMoney
    progress: BatchProgress
    upload_report: dict[str, Any]
    reward: Decimal | None
    overlap: dict[str, int] | None
    created_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    launch_quote: LaunchQuote | None = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "cancelled")


class AddedImage(Model):
    schema_name = "AddedImage"
    name: str
    sha256: str
    task_id: str


class BatchImages(Model):
    schema_name = "BatchImagesOut"
    batch: Batch
    added: list[AddedImage]
    present: list[AddedImage]
    duplicates: list[dict[str, str]]
    skipped: list[dict[str, str]]
    labels: list[dict[str, Any]] = []


class Gold(Model):
    schema_name = "GoldOut"
    id: str
    project_id: str
    image_name: str
    image_url: str
    answer: dict[str, Any]
    created_at: datetime
    pre_annotation: dict[str, Any] | None = None


class GoldImport(Model):
    schema_name = "GoldImportOut"
    items: list[Gold]
    labels: list[dict[str, Any]]
    duplicates: list[dict[str, str]]
    skipped: list[dict[str, str]]


class PredictionStart(Model):
    """The model's prediction an answer started from, and how much of it the answer kept."""

    schema_name = "PredictionStart"
    model_id: str
    model_score: float
    agreement: float
    unchanged: bool
    measure: str


class ResultAnswer(Model):
    schema_name = "ResultAnswer"
    assignment_id: str
    worker_id: str
    answer: dict[str, Any] | None
    status: str
    reason: str | None
    submitted_at: datetime | None
    proposed_verdict: str | None = None
    agreement: float | None = None
    appeal_message: str | None = None
    appealed_at: datetime | None = None
    appeal_outcome: str | None = None
    prediction: PredictionStart | None = None
    """Set when the answer started from a model's prediction."""


class Result(Model):
    schema_name = "ResultItem"
    task_id: str
    image_name: str
    image_url: str
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None
    status: str
    answer: dict[str, Any] | None
    confidence: float | None
    answer_count: int
    completed_at: datetime | None = None
    labeled_by: str | None = None
    answers: list[ResultAnswer] | None = None


class Review(Model):
    """A submitted answer of one of the requester's batches, for review."""

    schema_name = "ReviewItem"
    id: str
    task_id: str
    worker_id: str
    status: str
    answer: dict[str, Any] | None
    reason: str | None
    submitted_at: datetime | None


class LeasedTask(Model):
    schema_name = "LeasedTask"
    id: str
    image_url: str
    width: int
    height: int
    annotation: dict[str, Any]
    instructions: str
    pre_annotation: dict[str, Any] | None = None


class Lease(Model):
    schema_name = "LeaseOut"
    id: str
    project_id: str
    task: LeasedTask
    reward: Decimal
    expires_at: datetime


class Assignment(Model):
    schema_name = "AssignmentOut"
    id: str
    project_id: str
    task_id: str
    status: str
    reward: Decimal
    leased_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    reason: str | None
    appeal_until: datetime | None = None
    appeal_message: str | None = None
    appeal_outcome: str | None = None


class Standing(Model):
    schema_name = "StandingOut"
    project_id: str
    accuracy: float
    accuracy_upper: float
    graded_answers: int
    qualified: bool
    qualification_retry_at: datetime | None
    banned: bool
    ban_reason: str | None


class Bonus(Model):
    schema_name = "BonusOut"
    id: str
    assignment_id: str
    worker_id: str
    amount: Decimal
    reason: str
    created_at: datetime


class PlatformSettings(Model):
    schema_name = "SettingsOut"
    platform_fee: Decimal
    min_payout: Decimal
    payout_hold_s: int
    benefit_of_doubt_below: float
    qualification_retry_s: int


class AdminPayout(Model):
    schema_name = "AdminPayoutOut"
    id: str
    worker_id: str
    worker_name: str | None
    amount: Decimal
    status: str
    provider: str
    attempts: int
    failure_reason: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    settled_at: datetime | None


class SettingsChange(Model):
    schema_name = "SettingsChangeOut"
    id: str
    setting: str
    old_value: str
    new_value: str
    changed_at: datetime
    actor_id: str
    actor_name: str


class ProjectSkill(Model):
    schema_name = "ProjectSkill"
    project_id: str
    accuracy: float
    accuracy_upper: float
    graded_answers: int
    gold_answers: int
    qualified: bool
    qualification_retry_at: datetime | None
    banned: bool
    ban_reason: str | None


class WorkerRow(Model):
    schema_name = "WorkerRow"
    id: str
    name: str
    created_at: datetime
    answers: int
    accepted: int
    earnings: Decimal
    banned: bool
    ban_reason: str | None
    projects: list[ProjectSkill]


class LedgerCheck(Model):
    schema_name = "VerifyOut"
    ok: bool
    accounts: int
    total: Decimal
    violations: list[str]


class Webhook(Model):
    schema_name = "WebhookOut"
    id: str
    url: str
    events: list[str]
    created_at: datetime
    secret: str | None = None
    """Only when just created: keep it, it is not shown again."""


class WebhookDelivery(Model):
    schema_name = "DeliveryOut"
    event_id: str
    event_type: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    error: str | None
    delivered_at: datetime | None


class Ping(Model):
    schema_name = "PingOut"
    event_id: str
    status: str


class AssistAnswer(Model):
    schema_name = "AssistAnswer"
    tool: str
    answer: dict[str, Any]
    """A valid answer in the project's shape holding the suggested shape only."""
    area: int


class Snap(Model):
    schema_name = "SnapOut"
    tool: str = "snap"
    point: list[float]
    snapped: bool


ALL_MODELS: tuple[type[Model], ...] = tuple(
    cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, Model) and cls is not Model
)
