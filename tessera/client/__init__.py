"""The Python client of Tessera's HTTP API.

from tessera.client import Client
with Client("http://127.0.0.1:8000", api_key) as tessera:
    project = tessera.create_project({...})
    report = tessera.upload_batch(project.id, "photos/")
    tessera.launch_batch(report.batch_id)
    for result in tessera.results(report.batch_id):
        ...
"""

from tessera.client import models
from tessera.client._http import NO_RETRY, RetryPolicy
from tessera.client.aio import AsyncClient
from tessera.client.errors import (
    APIError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PaymentRequired,
    RateLimited,
    ServerError,
    TesseraError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from tessera.client.sync import Client
from tessera.client.upload import UploadReport
from tessera.client.webhooks import SignatureError, verify_signature

__all__ = [
    "NO_RETRY",
    "APIError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "PaymentRequired",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SignatureError",
    "TesseraError",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "UploadReport",
    "models",
    "verify_signature",
]
