from __future__ import annotations

from app.core.errors import Conflict, NotFound


class AssignmentNotFound(NotFound):
    type, title = "assignment-not-found", "Assignment not found"


class LeaseExpired(Conflict):
    type, title = "lease-expired", "The lease has expired"


class AssignmentClosed(Conflict):
    type, title = "assignment-closed", "The assignment is no longer open"


class TooManyLeases(Conflict):
    type, title = "too-many-leases", "Too many open leases"


class ImageNotAvailable(NotFound):
    type, title = "image-not-found", "Image not found"
