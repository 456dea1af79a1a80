"""The answers domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class AnswerNotFound(NotFound):
    type, title = "assignment-not-found", "Assignment not found"


class VerdictConflict(Conflict):
    type, title = "verdict-final", "The answer already has a verdict or was never submitted"


class AppealNotAllowed(Conflict):
    type, title = "appeal-not-allowed", "This answer cannot be appealed"
