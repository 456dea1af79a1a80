"""Every table of the app, imported in one place for alembic and to avoid import cycles."""

from app.core.models import Base
from app.models.account import Account, Role
from app.models.annotator import AnnotatorKind, AnnotatorModel, ModelCall, Prediction
from app.models.assignment import Assignment, AssignmentStatus
from app.models.batch import Batch, BatchStatus
from app.models.bonus import Bonus
from app.models.credentials import ApiKey, ServerSecret, WebSession
from app.models.idempotency_key import IdempotencyKey
from app.models.image import Image
from app.models.image_fetch import ImageFetch
from app.models.project import Project, ProjectStatus
from app.models.project_model import ProjectModel
from app.models.quality_settings import QualitySettings
from app.models.rate_counter import RateCounter
from app.models.settings_change import SettingsChange
from app.models.task import Task, TaskQueueEntry, TaskStatus
from app.models.webhook import Webhook, WebhookDelivery, WebhookSubscription
from app.models.worker_skill import WorkerSkill

__all__ = [
    "Account",
    "AnnotatorKind",
    "AnnotatorModel",
    "ApiKey",
    "Assignment",
    "AssignmentStatus",
    "Base",
    "Batch",
    "BatchStatus",
    "Bonus",
    "IdempotencyKey",
    "Image",
    "ImageFetch",
    "ModelCall",
    "Prediction",
    "Project",
    "ProjectModel",
    "ProjectStatus",
    "QualitySettings",
    "RateCounter",
    "Role",
    "ServerSecret",
    "SettingsChange",
    "Task",
    "TaskQueueEntry",
    "TaskStatus",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkerSkill",
]
