from __future__ import annotations

from app.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unprocessable,
    UnsupportedMediaType,
)
from app.images import ImageError

_BY_STATUS: dict[int, type[ProblemError]] = {
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
}


class BatchNotFound(NotFound):
    type, title = "batch-not-found", "Batch not found"


class BatchStateConflict(Conflict):
    type, title = "batch-state", "The batch is not in a state that allows this"


class ImageRejected(Unprocessable):
    type, title = "image-rejected", "An image was refused"


class EmptyUpload(Unprocessable):
    type, title = "empty-upload", "The upload holds no usable image"


def image_problem(error: ImageError, name: str) -> ProblemError:
    """An ImageError about one named upload, as a problem with the right status."""
    cls = _BY_STATUS.get(error.status, Unprocessable)
    problem = cls(f"{name}: {error.detail}", extra={"image": name})
    return problem
