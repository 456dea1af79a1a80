"""Ledger account kinds, their sign rules, and the kinds of transaction that move money.

A balance is the money an account holds. Deposits come from the ``world`` account (money outside
Tessera) and settled payouts go back to it, so ``world`` is the only account allowed below zero
and all balances together always sum to zero.
"""

from __future__ import annotations

import zlib
from enum import StrEnum
from typing import NamedTuple


class AccountKind(StrEnum):
    REQUESTER_AVAILABLE = "requester_available"  # owner acc_…
    REQUESTER_ESCROW = "requester_escrow"  # owner bat_…: one escrow per launched batch
    WORKER_PENDING = "worker_pending"  # owner acc_…: earned, still on hold
    WORKER_AVAILABLE = "worker_available"  # owner acc_…: may be withdrawn
    WORKER_IN_FLIGHT = "worker_in_flight"  # owner acc_…: payouts requested, not yet settled
    PLATFORM_FEES = "platform_fees"  # owner "platform"
    WORLD = "world"  # owner "world"


class TxKind(StrEnum):
    DEPOSIT = "deposit"  # world → requester available; reference: the deposit's reference
    ESCROW = "escrow"  # requester available → batch escrow; reference bat_…
    REWARD = "reward"  # escrow → worker pending + platform fee; reference asg_…
    BONUS = "bonus"  # requester available → worker pending + platform fee; caller's reference
    REFUND = "refund"  # escrow → requester available; reference bat_…
    RELEASE = "release"  # worker pending → available after the hold; reference: held ltx_…
    PAYOUT = "payout"  # worker available → in flight; reference pay_…
    PAYOUT_PAID = "payout_paid"  # in flight → world; reference pay_…
    PAYOUT_FAILED = "payout_failed"  # in flight → worker available; reference pay_…


PLATFORM = "platform"
WORLD = "world"

SHARDS = 32
"""Rows per sharded account. Changing it needs no migration: a balance is the sum of whatever
shards exist, and a posting only picks the row it writes."""
SHARDED_KINDS = frozenset({AccountKind.PLATFORM_FEES, AccountKind.WORLD})
"""The accounts every reward, deposit and settled payout touches: without shards each would be one
row lock that all those postings queue on. Neither has a sign rule that needs its whole balance
(world may go negative; fee income is only ever credited), so a posting may use any shard."""


def shard_for(kind: str, transaction_id: str) -> int:
    """The shard a posting writes: a hash of its transaction id for sharded kinds, else 0."""
    if kind not in SHARDED_KINDS:
        return 0
    return zlib.crc32(transaction_id.encode()) % SHARDS


class AccountRef(NamedTuple):
    kind: str
    owner: str


def allows_negative(kind: str) -> bool:
    return kind == AccountKind.WORLD


def requester_available(requester_ref: str) -> AccountRef:
    return AccountRef(AccountKind.REQUESTER_AVAILABLE, requester_ref)


def escrow(batch_ref: str) -> AccountRef:
    return AccountRef(AccountKind.REQUESTER_ESCROW, batch_ref)


def worker_pending(worker_ref: str) -> AccountRef:
    return AccountRef(AccountKind.WORKER_PENDING, worker_ref)


def worker_available(worker_ref: str) -> AccountRef:
    return AccountRef(AccountKind.WORKER_AVAILABLE, worker_ref)


def worker_in_flight(worker_ref: str) -> AccountRef:
    return AccountRef(AccountKind.WORKER_IN_FLIGHT, worker_ref)


def platform_fees() -> AccountRef:
    return AccountRef(AccountKind.PLATFORM_FEES, PLATFORM)


def world() -> AccountRef:
    return AccountRef(AccountKind.WORLD, WORLD)
