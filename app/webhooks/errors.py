"""The webhooks domain's problems (subclasses of the tree in ``app.core.errors``)."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound, Unprocessable


class WebhookNotFound(NotFound):
    type, title = "webhook-not-found", "Webhook not found"


class WebhookURLRefused(Unprocessable):
    type, title = "webhook-url-refused", "The webhook URL cannot be called"


class EventNotForRole(Unprocessable):
    type, title = "event-not-for-role", "This account cannot subscribe to that event"


class TooManyWebhooks(Conflict):
    type, title = "too-many-webhooks", "Too many webhooks"
