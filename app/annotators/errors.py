"""The annotator models domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import NotFound, Unprocessable


class AnnotatorModelNotFound(NotFound):
    type, title = "model-not-found", "Model not found"


class ModelKindNotForProject(Unprocessable):
    type, title = "model-kind-not-for-project", "This kind of model does not fit the project"


class UnsafeModelURL(Unprocessable):
    type, title = "unsafe-model-url", "The model URL is refused"
