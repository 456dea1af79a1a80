from __future__ import annotations

from app.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unprocessable,
    UnsupportedMediaType,
)
from app.exports import ExportNotAvailable
from app.images import ImageError
from app.models import Batch

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


class GoldNeedsOneImage(Unprocessable):
    def __init__(self, count: int) -> None:
        super().__init__(f"A gold task is exactly one image; this request holds {count}.")


class ImagesNeedFormat(Unprocessable):
    """``images=true`` asked of the JSON results, which never carry images."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(
            "images=true is for downloads: give a format (coco, yolo, voc, csv, masks, folders, "
            "cvat, datumaro, labelstudio); "
            f"GET /v1/batches/{batch.id}/images.zip has the images alone.",
            errors=[{"loc": ["query", "images"], "msg": "needs a download format"}],
        )


class FormatNotAvailable(Unprocessable):
    def __init__(self, cause: ExportNotAvailable) -> None:
        super().__init__(str(cause), errors=[{"loc": ["query", "format"], "msg": str(cause)}])


class UnknownImageNames(Unprocessable):
    """Answers given with an upload for names that are not among its images."""

    def __init__(self, field: str, names: list[str]) -> None:
        super().__init__(
            f"{field} name images not in the upload: {', '.join(names[:5])}",
            errors=[
                {"loc": ["body", field, name], "msg": "no image with this name"} for name in names
            ],
        )


def image_problem(error: ImageError, name: str) -> ProblemError:
    """An ImageError about one named upload, as a problem with the right status."""
    cls = _BY_STATUS.get(error.status, Unprocessable)
    problem = cls(f"{name}: {error.detail}", extra={"image": name})
    return problem
