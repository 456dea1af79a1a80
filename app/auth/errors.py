from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from app.models import Account, Role

# What a 401 answers with, so a client knows which scheme to use.
CHALLENGE = {"WWW-Authenticate": "Bearer"}


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


class ApiKeyNotValid(Unauthorized):
    def __init__(self) -> None:
        super().__init__("The API key is not valid.", headers=CHALLENGE)


class NotSignedIn(Unauthorized):
    def __init__(self) -> None:
        super().__init__(
            "Sign in, or send your API key as `Authorization: Bearer <api_key>`.",
            headers=CHALLENGE,
        )


class SessionEnded(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Your session has ended; sign in again.", headers=CHALLENGE)


class NotABrowserSession(Unauthorized):
    """A call about the browser's session, made with an API key."""

    def __init__(self) -> None:
        super().__init__("This call is for a signed-in browser, not an API key.")


class WrongRole(Forbidden):
    """The caller's account has a role the call is not for."""

    def __init__(self, account: Account, allowed: Sequence[Role]) -> None:
        wanted = " or ".join(allowed)
        article = "an" if account.role[:1] in "aeiou" else "a"
        super().__init__(
            f"This call is for {wanted} accounts; yours is {article} {account.role} account."
        )
