from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.core.schemas import InputModel, OutputModel, Timestamp


class ModelCreate(InputModel):
    """``http``: the requester's own model server, asked for a prediction for each task
    (docs/MODELS.md), ``url`` required. ``builtin``: a classifier fitted on the project's
    accepted consensus (classification and multilabel projects), no ``url``."""

    kind: Literal["http", "builtin"]
    name: str = Field(min_length=1, max_length=200)
    url: str | None = Field(
        default=None, min_length=1, max_length=2048, description="http: http(s), public address."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="http: per call, seconds.")

    @model_validator(mode="after")
    def _url_for_http_only(self) -> ModelCreate:
        if self.kind == "http" and self.url is None:
            raise ValueError("an http model needs a url")
        if self.kind == "builtin" and self.url is not None:
            raise ValueError("a builtin model takes no url")
        return self


class ModelReliability(OutputModel):
    """What the project's last re-estimation measured of a model as one more answerer (from
    gold and agreement with people): what its vote in the consensus is weighted by."""

    measure: Literal["accuracy", "skill"] = Field(
        description="accuracy: the share of its answers that were right (classes); skill: its "
        "localisation and presence quality, 0..1 (shapes)."
    )
    value: float = Field(ge=0, le=1)
    uncertainty: float | None = Field(
        default=None, description="accuracy: the standard deviation of that estimate."
    )
    answers: float = Field(description="How many of its answers the measure rests on.")
    measured_at: Timestamp | None = None


class ModelOut(OutputModel):
    id: str
    project_id: str
    kind: str
    name: str
    url: str | None = None
    timeout_s: float | None = None
    trained_on: int = Field(
        default=0, description="builtin: consensus tasks the last fit learnt from."
    )
    fitted_at: Timestamp | None = None
    predictions: int = Field(default=0, description="Tasks this model has predicted.")
    failed_calls: int = Field(default=0, description="http: tasks given up after retries.")
    last_error: str | None = Field(
        default=None, description="http: why the latest failed (or retried) call failed."
    )
    reliability: ModelReliability | None = Field(
        default=None,
        description="Its measured reliability; null until a re-estimation has measured it "
        "(until then its predictions are pre-annotations only, with no weight in the consensus).",
    )
    created_at: Timestamp


class ModelCreated(ModelOut):
    signing_secret: str | None = Field(
        default=None,
        description="http: the key of the `Tessera-Signature` HMAC on every call; shown once.",
    )


class ModelPage(OutputModel):
    items: list[ModelOut]
    next_cursor: str | None = None
