"""OpenAPI links: which response feeds which next call (the API's workflows, for clients and for
stateful testing).

Each ``Link`` names its source and target as ``"METHOD /path"`` (operation ids are generated
from function names and would change with them); ``app.core.openapi`` resolves them into the
document's ``responses.<status>.links``, and refuses to build a document whose link names an
operation, a status or a parameter that does not exist. The chains:

* create project → upload batch (or gold) → launch → lease → submit → accept / reject → appeal
  → grant / deny; accept → bonus, payout → payout status;
* deposit → balance and ledger; named API key → revoke; sign-up → ban → unban.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    source: str
    """``"POST /v1/projects"``: the operation whose response feeds the link."""
    status: str
    name: str
    target: str
    parameters: dict[str, str] = field(default_factory=dict)
    """Target parameter name → runtime expression (``$response.body#/id``)."""
    body: dict[str, Any] | None = None
    """Fields of the target's JSON body, from runtime expressions."""
    description: str = ""


_PROJECT = {"project_id": "$response.body#/id"}
_NEW_BATCH = {"batch_id": "$response.body#/id"}
_SAME_BATCH = {"batch_id": "$request.path.batch_id"}
_BATCH_PROJECT = {"project_id": "$response.body#/project_id"}
_LEASE = {"assignment_id": "$response.body#/id"}
_SAME_ASSIGNMENT = {"assignment_id": "$request.path.assignment_id"}

_AFTER_BATCH = (
    ("GetBatch", "GET /v1/batches/{batch_id}"),
    ("CancelBatch", "POST /v1/batches/{batch_id}/cancel"),
    ("GetResults", "GET /v1/batches/{batch_id}/results"),
    ("GetImagesZip", "GET /v1/batches/{batch_id}/images.zip"),
    ("ListBatchAssignments", "GET /v1/batches/{batch_id}/assignments"),
)
_ASSISTS = (
    ("AssistBoxToPolygon", "POST /v1/assist/box_to_polygon"),
    ("AssistBoxToMask", "POST /v1/assist/box_to_mask"),
    ("AssistSuperpixel", "POST /v1/assist/superpixel"),
    ("AssistSnap", "POST /v1/assist/snap"),
)

LINKS: tuple[Link, ...] = (
    # Projects.
    Link("POST /v1/projects", "201", "GetProject", "GET /v1/projects/{project_id}", _PROJECT),
    Link("POST /v1/projects", "201", "UpdateProject", "PATCH /v1/projects/{project_id}", _PROJECT),
    Link(
        "POST /v1/projects",
        "201",
        "UploadBatch",
        "POST /v1/projects/{project_id}/batches",
        _PROJECT,
        description="Upload the project's first batch of images.",
    ),
    Link(
        "POST /v1/projects", "201", "ListBatches", "GET /v1/projects/{project_id}/batches", _PROJECT
    ),
    Link("POST /v1/projects", "201", "AddGold", "POST /v1/projects/{project_id}/gold", _PROJECT),
    Link(
        "POST /v1/projects",
        "201",
        "Lease",
        "POST /v1/projects/{project_id}/assignments",
        _PROJECT,
        description="Nothing is open before a batch is launched (204).",
    ),
    Link(
        "POST /v1/projects/{project_id}/gold",
        "201",
        "GetProject",
        "GET /v1/projects/{project_id}",
        _BATCH_PROJECT,
    ),
    # Batches.
    Link(
        "POST /v1/projects/{project_id}/batches",
        "201",
        "Launch",
        "POST /v1/batches/{batch_id}/launch",
        _NEW_BATCH,
        description="Escrow the batch's cost and open its tasks.",
    ),
    Link(
        "POST /v1/projects/{project_id}/batches",
        "201",
        "AddImages",
        "POST /v1/batches/{batch_id}/images",
        _NEW_BATCH,
    ),
    *(
        Link("POST /v1/projects/{project_id}/batches", "201", name, target, _NEW_BATCH)
        for name, target in _AFTER_BATCH
    ),
    Link(
        "POST /v1/batches/{batch_id}/images",
        "200",
        "Launch",
        "POST /v1/batches/{batch_id}/launch",
        _SAME_BATCH,
    ),
    Link(
        "POST /v1/batches/{batch_id}/images",
        "200",
        "GetBatch",
        "GET /v1/batches/{batch_id}",
        _SAME_BATCH,
    ),
    Link(
        "POST /v1/batches/{batch_id}/launch",
        "200",
        "Lease",
        "POST /v1/projects/{project_id}/assignments",
        _BATCH_PROJECT,
        description="Lease one of the batch's tasks (as a worker).",
    ),
    *(
        Link("POST /v1/batches/{batch_id}/launch", "200", name, target, _SAME_BATCH)
        for name, target in _AFTER_BATCH
    ),
    Link(
        "POST /v1/batches/{batch_id}/cancel",
        "200",
        "GetBatch",
        "GET /v1/batches/{batch_id}",
        _SAME_BATCH,
    ),
    # Work.
    Link(
        "POST /v1/projects/{project_id}/assignments",
        "201",
        "Submit",
        "POST /v1/assignments/{assignment_id}/submit",
        _LEASE,
        description="Answer the leased task.",
    ),
    Link(
        "POST /v1/projects/{project_id}/assignments",
        "201",
        "Release",
        "POST /v1/assignments/{assignment_id}/release",
        _LEASE,
    ),
    Link(
        "POST /v1/projects/{project_id}/assignments",
        "201",
        "LeaseAnother",
        "POST /v1/projects/{project_id}/assignments",
        _BATCH_PROJECT,
    ),
    Link(
        "POST /v1/projects/{project_id}/assignments",
        "201",
        "MyAssignments",
        "GET /v1/me/assignments",
    ),
    *(
        Link(
            "POST /v1/projects/{project_id}/assignments",
            "201",
            name,
            target,
            body={"assignment_id": "$response.body#/id"},
        )
        for name, target in _ASSISTS
    ),
    # Review.
    Link(
        "POST /v1/assignments/{assignment_id}/submit",
        "200",
        "Accept",
        "POST /v1/assignments/{assignment_id}/accept",
        _SAME_ASSIGNMENT,
        description="The requester accepts the answer (pays it).",
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/submit",
        "200",
        "Reject",
        "POST /v1/assignments/{assignment_id}/reject",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/submit",
        "200",
        "Bonus",
        "POST /v1/assignments/{assignment_id}/bonus",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/submit",
        "200",
        "LeaseNext",
        "POST /v1/projects/{project_id}/assignments",
        _BATCH_PROJECT,
    ),
    Link("POST /v1/assignments/{assignment_id}/submit", "200", "MySkills", "GET /v1/me/skills"),
    Link(
        "POST /v1/assignments/{assignment_id}/accept",
        "200",
        "Bonus",
        "POST /v1/assignments/{assignment_id}/bonus",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/accept",
        "200",
        "Payout",
        "POST /v1/payouts",
        description="The worker withdraws the earnings (after the operator's payout hold).",
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/reject",
        "200",
        "Appeal",
        "POST /v1/assignments/{assignment_id}/appeal",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/appeal",
        "200",
        "GrantAppeal",
        "POST /v1/assignments/{assignment_id}/appeal/grant",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/appeal",
        "200",
        "DenyAppeal",
        "POST /v1/assignments/{assignment_id}/appeal/deny",
        _SAME_ASSIGNMENT,
    ),
    Link(
        "POST /v1/assignments/{assignment_id}/bonus",
        "201",
        "Ledger",
        "GET /v1/me/ledger",
    ),
    # Money.
    Link("POST /v1/deposits", "201", "Balance", "GET /v1/me"),
    Link("POST /v1/deposits", "201", "Ledger", "GET /v1/me/ledger"),
    Link(
        "POST /v1/payouts",
        "201",
        "GetPayout",
        "GET /v1/payouts/{payout_id}",
        {"payout_id": "$response.body#/id"},
    ),
    # Accounts and operators.
    Link(
        "POST /v1/me/api-keys",
        "201",
        "RevokeApiKey",
        "DELETE /v1/me/api-keys/{key_id}",
        {"key_id": "$response.body#/id"},
    ),
    Link(
        "POST /v1/accounts",
        "201",
        "Ban",
        "POST /v1/admin/workers/{worker_id}/ban",
        {"worker_id": "$response.body#/id"},
        description="An operator bans the new account (404 unless it is a worker).",
    ),
    Link(
        "POST /v1/admin/workers/{worker_id}/ban",
        "200",
        "Unban",
        "POST /v1/admin/workers/{worker_id}/unban",
        {"worker_id": "$request.path.worker_id"},
    ),
)
