from __future__ import annotations

from app.core.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized


class WrongCredentials(Unauthorized):
    type, title = "wrong-credentials", "Wrong email or password"


class SignInThrottled(TooManyRequests):
    type, title = "sign-in-throttled", "Too many failed sign-ins"


class EmailTaken(Conflict):
    type, title = "email-taken", "Email already registered"


class CsrfTokenMissing(Forbidden):
    type, title = "csrf-token-missing", "Missing or wrong CSRF token"


class ApiKeyNotFound(NotFound):
    type, title = "api-key-not-found", "API key not found"
