"""Postings without re-planning: one index probe per account row, in a fixed key order

Why (measured on one connection, backend CPU from /proc; see the Ledger section of
benchmarks/README.md): 0017's ``payments_post`` joined ``ledger_accounts`` with ``unnest()`` of
its array parameters in four statements (lock, sign check, balance update, entries). A generic
plan of such a join is costed for 10 array elements, a custom plan for the 2–4 actually passed,
so PL/pgSQL's plan cache kept choosing custom plans: all four statements were planned again on
every call. Now every statement on the path is a single-row probe by ``UNIQUE(kind, owner,
shard)`` or by id, whose generic plan is the custom one, so each is planned once per session.

``payments_post`` takes the posting's distinct account rows already netted and in lock order,
plus its entries as (row number, amount). For each row, in that order, one
``UPDATE … SET balance = balance + delta … WHERE (allow_negative OR balance + delta >= 0)
RETURNING id`` locks the row, checks the sign rule against the current balance and writes it
(no separate ``SELECT … FOR UPDATE`` pass, no second probe); a row that is missing is created
(ON CONFLICT DO NOTHING) and tried again. A row the sign rule refuses ends the posting as
'insufficient': the rows already written are set back, and the reference is given back, so a
caller that catches this and commits leaves no trace.

The lock order is now the rows' key order (``payments.ledger.lock_order``: unsharded kinds
first, then by kind, owner and shard, byte-wise), which needs no id before locking; every poster
and ``lock_balances`` use it. ``payments_pay`` reads the batch's terms and the hold period in one
statement and, in the usual case, writes the reward's three rows inline in that order (saves the
nested call, ~15% of the reward's backend CPU); a missing or refused row sends it through
``payments_post`` after setting back what it wrote.

SQLite: nothing (its path is plain statements through the single writer).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_POST_SIGNATURE = (
    "payments_post(text, text, text, timestamptz, text[], text[], integer[], bigint[], boolean[])"
)

# Rows p_kinds … p_negative: the posting's distinct account rows in lock order, with their net
# deltas; p_rows/p_amounts: its entries, in order (1-based row number, amount). Returns one row:
# o_status 'created', 'replayed' (o_tx = the first posting: the caller compares its entries) or
# 'insufficient' (o_kind, o_owner, o_balance, o_needed name the account; nothing was written).
POST_FUNCTION = """
CREATE FUNCTION payments_post(
    p_tx text, p_kind text, p_reference text, p_now timestamptz,
    p_kinds text[], p_owners text[], p_shards integer[], p_deltas bigint[], p_negative boolean[],
    p_rows integer[], p_amounts bigint[],
    OUT o_status text, OUT o_tx text, OUT o_kind text, OUT o_owner text,
    OUT o_balance bigint, OUT o_needed bigint
) LANGUAGE plpgsql AS $$
DECLARE
    ids integer[] := '{}';
    got integer;
    k text;
    o text;
    s integer;
    d bigint;
    bal bigint;
    neg boolean;
BEGIN
    INSERT INTO ledger_transactions (id, kind, reference, created_at)
    VALUES (p_tx, p_kind, p_reference, p_now)
    ON CONFLICT (kind, reference) DO NOTHING;
    IF NOT FOUND THEN
        SELECT t.id INTO o_tx FROM ledger_transactions t
        WHERE t.kind = p_kind AND t.reference = p_reference;
        o_status := 'replayed';
        RETURN;
    END IF;
    o_tx := p_tx;
    FOR i IN 1..cardinality(p_kinds) LOOP
        k := p_kinds[i];
        o := p_owners[i];
        s := p_shards[i];
        d := p_deltas[i];
        FOR attempt IN 1..3 LOOP
            IF d = 0 THEN
                SELECT a.id INTO got FROM ledger_accounts a
                WHERE a.kind = k AND a.owner = o AND a.shard = s;
            ELSE
                -- Locks the row, checks its sign rule on the current balance, writes it.
                UPDATE ledger_accounts a SET balance = a.balance + d
                WHERE a.kind = k AND a.owner = o AND a.shard = s
                  AND (a.allow_negative OR a.balance + d >= 0)
                RETURNING a.id INTO got;
            END IF;
            EXIT WHEN FOUND;
            -- Not written: the row is missing, or the delta would break its sign rule.
            SELECT a.balance, a.allow_negative INTO bal, neg FROM ledger_accounts a
            WHERE a.kind = k AND a.owner = o AND a.shard = s;
            IF NOT FOUND AND d < 0 AND NOT p_negative[i] THEN
                bal := 0;
                neg := false;
            ELSIF NOT FOUND THEN
                INSERT INTO ledger_accounts (kind, owner, shard, allow_negative, balance, created_at)
                VALUES (k, o, s, p_negative[i], 0, p_now)
                ON CONFLICT (kind, owner, shard) DO NOTHING;
            END IF;
            IF bal IS NOT NULL AND NOT neg AND bal + d < 0 THEN
                -- Set back what this posting wrote and give the reference back.
                FOR j IN 1..i - 1 LOOP
                    IF p_deltas[j] <> 0 THEN
                        UPDATE ledger_accounts a SET balance = a.balance - p_deltas[j]
                        WHERE a.id = ids[j];
                    END IF;
                END LOOP;
                DELETE FROM ledger_transactions WHERE id = p_tx;
                o_status := 'insufficient';
                o_kind := k;
                o_owner := o;
                o_balance := bal;
                o_needed := -d;
                RETURN;
            END IF;
            -- Otherwise it was just created, or changed since the UPDATE looked: again.
            bal := NULL;
            IF attempt = 3 THEN
                RAISE EXCEPTION 'payments_post: account row (%, %, %) not written', k, o, s;
            END IF;
        END LOOP;
        ids[i] := got;
    END LOOP;
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT p_tx, ids[u.r], u.m FROM unnest(p_rows, p_amounts) WITH ORDINALITY AS u(r, m, n)
    ORDER BY u.n;
    o_status := 'created';
END
$$
"""

# A reward (p_amount NULL: the batch's reward, from its escrow) or a bonus (p_amount, from the
# requester's available balance), the fee rounded down per paid amount like money.fee_for, the
# worker's hold for the platform's hold period. Extra statuses: 'unknown_escrow' (never
# launched) and 'zero' (nothing to pay): the caller raises. Its rows, in lock order: the source
# (requester_available or requester_escrow), worker_pending, then the fee shard. The usual case
# is three UPDATEs on rows that exist, inline; when one is missing or refused, what was written
# is set back and the posting goes through payments_post, which creates rows and names the
# refusal.
PAY_FUNCTION = """
CREATE OR REPLACE FUNCTION payments_pay(
    p_tx text, p_kind text, p_reference text, p_now timestamptz, p_batch text, p_worker text,
    p_amount bigint, p_from_escrow boolean, p_fee_shard integer, p_hold_default integer,
    OUT o_status text, OUT o_tx text, OUT o_kind text, OUT o_owner text,
    OUT o_balance bigint, OUT o_needed bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_reward bigint;
    v_fee_ppm integer;
    v_requester text;
    v_hold integer;
    paid bigint;
    fee bigint;
    source text;
    source_owner text;
    source_id integer;
    worker_id integer;
    fee_id integer;
    n integer;
BEGIN
    SELECT e.reward, e.fee_ppm, e.requester_ref, s.payout_hold_seconds
    INTO v_reward, v_fee_ppm, v_requester, v_hold
    FROM escrows e LEFT JOIN platform_settings s ON s.id = 1
    WHERE e.batch_ref = p_batch;
    IF NOT FOUND THEN
        o_status := 'unknown_escrow';
        RETURN;
    END IF;
    paid := coalesce(p_amount, v_reward);
    IF paid = 0 THEN
        o_status := 'zero';
        RETURN;
    END IF;
    fee := div(paid::numeric * v_fee_ppm, 1000000)::bigint;
    IF p_from_escrow THEN
        source := 'requester_escrow';
        source_owner := p_batch;
    ELSE
        source := 'requester_available';
        source_owner := v_requester;
    END IF;
    INSERT INTO ledger_transactions (id, kind, reference, created_at)
    VALUES (p_tx, p_kind, p_reference, p_now)
    ON CONFLICT (kind, reference) DO NOTHING;
    IF NOT FOUND THEN
        SELECT t.id INTO o_tx FROM ledger_transactions t
        WHERE t.kind = p_kind AND t.reference = p_reference;
        o_status := 'replayed';
        RETURN;
    END IF;
    UPDATE ledger_accounts a SET balance = a.balance - (paid + fee)
    WHERE a.kind = source AND a.owner = source_owner AND a.shard = 0
      AND a.balance >= paid + fee
    RETURNING a.id INTO source_id;
    IF FOUND THEN
        UPDATE ledger_accounts a SET balance = a.balance + paid
        WHERE a.kind = 'worker_pending' AND a.owner = p_worker AND a.shard = 0
        RETURNING a.id INTO worker_id;
    END IF;
    IF FOUND AND fee > 0 THEN
        UPDATE ledger_accounts a SET balance = a.balance + fee
        WHERE a.kind = 'platform_fees' AND a.owner = 'platform' AND a.shard = p_fee_shard
        RETURNING a.id INTO fee_id;
    END IF;
    IF FOUND AND fee > 0 THEN
        INSERT INTO ledger_entries (transaction_id, account_id, amount)
        VALUES (p_tx, source_id, -(paid + fee)), (p_tx, worker_id, paid), (p_tx, fee_id, fee);
        o_status := 'created';
        o_tx := p_tx;
    ELSIF FOUND THEN
        INSERT INTO ledger_entries (transaction_id, account_id, amount)
        VALUES (p_tx, source_id, -paid), (p_tx, worker_id, paid);
        o_status := 'created';
        o_tx := p_tx;
    ELSE
        -- A row is missing or the source cannot pay: set back, and the general path decides.
        IF worker_id IS NOT NULL THEN
            UPDATE ledger_accounts a SET balance = a.balance - paid WHERE a.id = worker_id;
        END IF;
        IF source_id IS NOT NULL THEN
            UPDATE ledger_accounts a SET balance = a.balance + (paid + fee) WHERE a.id = source_id;
        END IF;
        DELETE FROM ledger_transactions WHERE id = p_tx;
        n := CASE WHEN fee > 0 THEN 3 ELSE 2 END;  -- no fee: no fee row
        SELECT * INTO o_status, o_tx, o_kind, o_owner, o_balance, o_needed FROM payments_post(
            p_tx, p_kind, p_reference, p_now,
            (ARRAY[source, 'worker_pending', 'platform_fees'])[1:n],
            (ARRAY[source_owner, p_worker, 'platform'])[1:n],
            (ARRAY[0, 0, p_fee_shard])[1:n], (ARRAY[-(paid + fee), paid, fee])[1:n],
            (ARRAY[false, false, false])[1:n],
            (ARRAY[1, 2, 3])[1:n], (ARRAY[-(paid + fee), paid, fee])[1:n]);
    END IF;
    IF o_status = 'created' THEN
        INSERT INTO ledger_holds (transaction_id, worker_ref, amount, release_at)
        VALUES (p_tx, p_worker, paid, p_now + make_interval(secs => coalesce(v_hold, p_hold_default)));
    END IF;
END
$$
"""


def _sharded_ledger() -> ModuleType:
    """Revision 0017 (its function texts are what a downgrade restores)."""
    path = Path(__file__).with_name("2026-12-01-1335_sharded_ledger_accounts.py")
    spec = importlib.util.spec_from_file_location("_sharded_ledger_0017", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION {OLD_POST_SIGNATURE}")
    op.execute(POST_FUNCTION)
    op.execute(PAY_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    old = _sharded_ledger()
    op.execute("DROP FUNCTION payments_pay")
    op.execute(
        "DROP FUNCTION payments_post(text, text, text, timestamptz, text[], text[], integer[], "
        "bigint[], boolean[], integer[], bigint[])"
    )
    op.execute(old.POST_FUNCTION)
    op.execute(old.PAY_FUNCTION)
