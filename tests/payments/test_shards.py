"""Sharded fee and world accounts: many rows, one balance, every invariant intact.

The concurrency half runs on PostgreSQL only (real commits on separate connections); the rest
on both databases.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, pool, select, text, update
from sqlalchemy.orm import Session

import payments
from app.core.db import make_sessionmaker
from app.core.migrate import alembic_config, downgrade, upgrade
from payments import accounts as acct
from payments.accounts import SHARDED_KINDS, SHARDS, AccountKind, shard_for
from payments.errors import InsufficientFunds
from payments.ledger import post
from payments.models import LedgerAccount, LedgerEntry, LedgerHold
from tests.payments.conftest import DOLLAR, REQ, T0, assert_sound, fund
from tests.payments.test_concurrency import race

REWARD, FEE_PPM = 20_000, 100_000  # fee 2,000


def _launch(session: Session, batch: str, answers: int) -> None:
    payments.launch_escrow(
        session,
        batch_ref=batch,
        requester_ref=REQ,
        tasks=answers,
        max_overlap=1,
        reward=REWARD,
        fee_ppm=FEE_PPM,
        now=T0,
    )
    session.commit()


def _shards(session: Session, kind: str) -> dict[int, int]:
    rows = session.execute(
        select(LedgerAccount.shard, LedgerAccount.balance).where(LedgerAccount.kind == kind)
    )
    return {shard: int(balance) for shard, balance in rows}


def test_only_fee_income_and_world_are_sharded() -> None:
    assert {AccountKind.PLATFORM_FEES, AccountKind.WORLD} == SHARDED_KINDS
    assert shard_for(AccountKind.WORKER_PENDING, "ltx_anything") == 0
    assert shard_for(AccountKind.REQUESTER_ESCROW, "ltx_anything") == 0
    shards = {shard_for(AccountKind.PLATFORM_FEES, f"ltx_{i}") for i in range(2_000)}
    assert shards == set(range(SHARDS))  # the hash spreads postings over every shard
    assert shard_for(AccountKind.WORLD, "ltx_7") == shard_for(AccountKind.WORLD, "ltx_7")


def test_fees_spread_over_shards_and_sum_to_the_balance(db: Session) -> None:
    fund(db, REQ, 10 * DOLLAR)
    _launch(db, "bat_1", 100)
    for i in range(100):
        payments.pay_accepted(
            db, assignment_ref=f"asg_{i}", batch_ref="bat_1", worker_ref="w", now=T0
        )
    db.commit()
    fees = _shards(db, AccountKind.PLATFORM_FEES)
    assert len(fees) > 10  # 100 postings over 32 shards
    assert sum(fees.values()) == 100 * 2_000
    assert payments.balance(db, acct.platform_fees()) == 100 * 2_000
    assert payments.balances(db, acct.PLATFORM) == {AccountKind.PLATFORM_FEES: 100 * 2_000}
    assert payments.balance(db, acct.worker_pending("w")) == 100 * REWARD
    assert db.scalar(select(func.count()).select_from(LedgerHold)) == 100
    # Each posting wrote the shard its transaction id hashes to.
    for tx_id, shard in db.execute(
        select(LedgerEntry.transaction_id, LedgerAccount.shard)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.kind == AccountKind.PLATFORM_FEES)
    ):
        assert shard == shard_for(AccountKind.PLATFORM_FEES, tx_id)
    assert_sound(db, accepted={f"asg_{i}" for i in range(100)})


def test_deposits_spread_world_over_shards(db: Session) -> None:
    for i in range(40):
        fund(db, f"acc_{i}", DOLLAR)
    world = _shards(db, AccountKind.WORLD)
    assert len(world) > 5
    assert all(balance < 0 for balance in world.values())
    assert payments.balance(db, acct.world()) == -40 * DOLLAR


def test_replay_on_another_shard_moves_nothing(db: Session) -> None:
    fund(db, REQ, DOLLAR)
    _launch(db, "bat_1", 3)
    first = payments.pay_accepted(
        db, assignment_ref="asg_1", batch_ref="bat_1", worker_ref="w", now=T0
    )
    # The replay draws a new transaction id (and so, likely, another fee shard): still one posting.
    for _ in range(5):
        again = payments.pay_accepted(
            db, assignment_ref="asg_1", batch_ref="bat_1", worker_ref="w", now=T0
        )
        assert (again.created, again.transaction_id) == (False, first.transaction_id)
    db.commit()
    assert payments.balance(db, acct.platform_fees()) == 2_000
    assert payments.balance(db, acct.escrow("bat_1")) == 2 * (REWARD + 2_000)
    assert_sound(db, accepted={"asg_1"})


def test_a_spent_escrow_refuses_and_leaves_no_trace(db: Session) -> None:
    fund(db, REQ, DOLLAR)
    _launch(db, "bat_1", 1)
    payments.pay_accepted(db, assignment_ref="asg_1", batch_ref="bat_1", worker_ref="w", now=T0)
    with pytest.raises(InsufficientFunds) as err:
        payments.pay_accepted(db, assignment_ref="asg_2", batch_ref="bat_1", worker_ref="w", now=T0)
    assert (err.value.account_kind, err.value.balance, err.value.needed) == (
        AccountKind.REQUESTER_ESCROW,
        0,
        REWARD + 2_000,
    )
    db.commit()
    assert db.scalar(select(func.count()).select_from(LedgerHold)) == 1
    assert_sound(db, accepted={"asg_1"})


def test_a_zero_fee_bonus_posts_two_entries(db: Session) -> None:
    fund(db, REQ, DOLLAR)
    payments.launch_escrow(
        db,
        batch_ref="bat_0",
        requester_ref=REQ,
        tasks=1,
        max_overlap=1,
        reward=10,
        fee_ppm=0,
        now=T0,
    )
    posted = payments.pay_bonus(
        db, reference="bon_1", batch_ref="bat_0", worker_ref="w", amount=5_000, now=T0
    )
    db.commit()
    n = db.scalar(select(func.count()).where(LedgerEntry.transaction_id == posted.transaction_id))
    assert n == 2
    assert payments.balance(db, acct.worker_pending("w")) == 5_000
    assert payments.balance(db, acct.requester_available(REQ)) == DOLLAR - 10 - 5_000


def test_verify_names_a_shard_on_an_unsharded_kind(session: Session) -> None:
    fund(session, REQ, DOLLAR)
    session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.kind == AccountKind.REQUESTER_AVAILABLE)
        .values(shard=3)
    )
    violations = payments.verify(session).violations
    assert any("(shard 3): only" in v for v in violations)
    session.rollback()


def test_the_sign_rule_holds_per_fee_shard(db: Session) -> None:
    fund(db, REQ, DOLLAR)
    post(
        db,
        "test",
        "fee",
        [(acct.requester_available(REQ), -10), (acct.platform_fees(), 10)],
        now=T0,
    )
    # Fee income is only ever credited; a debit would draw on whichever shard it hashes to,
    # and no shard may go below zero.
    with pytest.raises(InsufficientFunds):
        post(
            db,
            "test",
            "take",
            [(acct.platform_fees(), -11), (acct.requester_available(REQ), 11)],
            now=T0,
        )
    db.rollback()


# --- PostgreSQL: concurrency --------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.concurrency
@pytest.mark.parametrize("batches", [1, 8])
def test_sixteen_threads_of_rewards_pay_each_answer_once(
    wide_engine: Engine,
    session: Session,
    batches: int,
) -> None:
    fund(session, REQ, 100 * DOLLAR)
    per_batch = 320 // batches
    for b in range(batches):
        _launch(session, f"bat_{b}", per_batch)
    maker = make_sessionmaker(wide_engine)
    answers = [(f"asg_{i}", f"bat_{i % batches}") for i in range(320)]

    def pay_share(start: int) -> int:
        created = 0
        with maker() as s:
            # Every thread pays every answer of its share, and the next thread's share too, so
            # each answer is paid by two threads at once.
            for asg, batch in answers[start : start + 40]:
                worker = f"w{int(asg[4:]) % 10}"
                created += payments.pay_accepted(
                    s, assignment_ref=asg, batch_ref=batch, worker_ref=worker, now=T0
                ).created
                s.commit()
        return created

    with ThreadPoolExecutor(16) as pool:
        created = list(pool.map(pay_share, [(20 * i) % 320 for i in range(16)]))
    assert sum(created) == 320
    assert payments.balance(session, acct.platform_fees()) == 320 * 2_000
    assert len(_shards(session, AccountKind.PLATFORM_FEES)) == SHARDS
    for b in range(batches):
        assert payments.balance(session, acct.escrow(f"bat_{b}")) == 0
    assert_sound(session, accepted={asg for asg, _ in answers})


@pytest.mark.postgres_only
@pytest.mark.concurrency
def test_racing_deposits_and_payouts_on_world_shards(
    wide_engine: Engine,
    session: Session,
) -> None:
    results = race(
        make_sessionmaker(wide_engine),
        32,
        lambda s, i: (
            payments.deposit(
                s,
                payments.EmbeddedPaymentProvider(),
                requester_ref=f"acc_{i % 4}",
                amount=DOLLAR,
                reference=f"dep_{i % 16}",  # each deposit raced by two requests
                now=T0,
            ).created
        ),
    )
    assert sum(results) == 16
    assert payments.balance(session, acct.world()) == -16 * DOLLAR
    assert sum(
        payments.balance(session, acct.requester_available(f"acc_{i}")) for i in range(4)
    ) == (16 * DOLLAR)
    assert_sound(session)


# --- the migration ------------------------------------------------------------------------------

SHARDS_REVISION = "0017"  # migrations/versions/…_sharded_ledger_accounts.py


def test_downgrade_folds_shards_and_upgrade_keeps_balances(
    database_url: str, session: Session
) -> None:
    fund(session, REQ, 10 * DOLLAR)
    _launch(session, "bat_1", 50)
    for i in range(50):
        payments.pay_accepted(
            session, assignment_ref=f"asg_{i}", batch_ref="bat_1", worker_ref="w", now=T0
        )
    session.commit()
    before = {
        (kind, owner): int(total)
        for kind, owner, total in session.execute(
            select(
                LedgerAccount.kind, LedgerAccount.owner, func.sum(LedgerAccount.balance)
            ).group_by(LedgerAccount.kind, LedgerAccount.owner)
        )
    }
    assert len(_shards(session, AccountKind.PLATFORM_FEES)) > 1
    session.close()
    script = ScriptDirectory.from_config(alembic_config(database_url))
    previous = script.get_revision(SHARDS_REVISION).down_revision
    assert isinstance(previous, str)
    downgrade(database_url, previous)
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        folded = {
            (kind, owner): int(balance)
            for kind, owner, balance in conn.execute(
                text("SELECT kind, owner, balance FROM ledger_accounts")
            )
        }
        sums: dict[int, int] = dict(
            conn.execute(
                text("SELECT account_id, sum(amount) FROM ledger_entries GROUP BY account_id")
            ).all()
        )
        cached: dict[int, int] = dict(
            conn.execute(text("SELECT id, balance FROM ledger_accounts")).all()
        )
    engine.dispose()
    assert folded == before  # one row per account, holding the sum of its shards
    assert all(int(cached[a]) == int(sums.get(a, 0)) for a in cached)  # cache = entries
    upgrade(database_url)
    assert_sound(session, accepted={f"asg_{i}" for i in range(50)})
    assert payments.balance(session, acct.platform_fees()) == 50 * 2_000
