"""Webhooks: endpoints, their subscriptions, and the outbox of deliveries

Why: requesters (and workers, for their payouts) are told of their events by signed HTTP
calls (``app.webhooks``). An event is written to ``webhook_deliveries`` in the transaction of the
change that causes it, one row per subscribed webhook, and the ``webhooks.deliver`` reconciler
sends it. The PostgreSQL submit function (0022's) is replaced by one that writes the
``assignment.submitted`` and ``task.completed`` rows in the same call (two event ids passed in),
so the hot path keeps its single round trip. No existing row changes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 17:10:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SUBMIT_SIGNATURE = (
    "tessera_submit(text, text, text, jsonb, timestamptz, text, bigint, bigint, int)"
)
NEW_SUBMIT_SIGNATURE = (
    "tessera_submit(text, text, text, jsonb, timestamptz, text, bigint, bigint, int, text, text)"
)

SUBMIT = r"""

CREATE OR REPLACE FUNCTION tessera_submit(
    p_key_id text, p_key_hash text, p_id text, p_answer jsonb, p_now timestamptz,
    p_rl_name text, p_rl_window bigint, p_rl_ends bigint, p_rl_limit int,
    p_evt_submitted text, p_evt_completed text
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_worker text; v_role text; v_banned timestamptz;
    a record; t record; r record;
    v_label text; v_names text[]; v_k int; v_doubt float8; v_qualified timestamptz;
    v_has_skill boolean; v_lp float8[]; v_ws text[] := '{}'; v_ls int[] := '{}';
    v_ids text[] := '{}'; v_st text[] := '{}'; v_n int := 0; v_li int; v_acc float8;
    v_p float8; v_off float8; v_diag float8; v_mx float8; v_tot float8; v_best int;
    v_conf float8; v_omin int; v_omax int; v_cmin float8; v_complete boolean;
    v_check text[] := '{}'; v_hits int; v_at text;
    v_eff float8[]; v_gold float8[]; v_lv float8[]; v_own float8[] := '{}'; v_c float8;
    v_loo float8[]; v_inc jsonb[] := '{}'; v_incj jsonb; v_lmx float8; v_ltot float8;
BEGIN
    SELECT ac.id, ac.role, ac.banned_at INTO v_worker, v_role, v_banned
      FROM api_keys k JOIN accounts ac ON ac.id = k.account_id
     WHERE k.key_id = p_key_id AND k.revoked_at IS NULL AND k.key_hash = p_key_hash;
    IF NOT FOUND OR v_role <> 'worker' OR v_banned IS NOT NULL THEN
        RETURN '{"fallback": "caller"}';
    END IF;
    -- The rate limit of app.core.ratelimit (``take``): counted here, once, whatever follows.
    INSERT INTO rate_counters (bucket, "window", hits, ends_at)
    VALUES (p_rl_name || ':' || v_worker, p_rl_window, 1, p_rl_ends)
    ON CONFLICT (bucket, "window") DO UPDATE SET hits = rate_counters.hits + 1
    RETURNING hits INTO v_hits;
    IF v_hits > p_rl_limit THEN
        RETURN '{"rate_limited": true}';
    END IF;
    SELECT x.id, x.task_id, x.project_id, x.status, x.reward_micros, x.leased_at, x.expires_at,
           x.batch_id
      INTO a FROM assignments x WHERE x.id = p_id AND x.worker_id = v_worker
       FOR NO KEY UPDATE;
    IF NOT FOUND OR a.status <> 'leased' OR a.expires_at <= p_now THEN
        RETURN '{"fallback": "assignment", "counted": true}';
    END IF;
    SELECT tk.id, tk.status, tk.is_gold, tk.batch_id, p.annotation, p.auto_accept_s,
           p.min_answer_s, p.qualification_gold_tasks, p.ban_below_accuracy,
           b.overlap_min, b.overlap_max, b.confidence, p.requester_id, tk.answer_count
      INTO t FROM tasks tk JOIN projects p ON p.id = tk.project_id
                   JOIN batches b ON b.id = tk.batch_id
     WHERE tk.id = a.task_id FOR NO KEY UPDATE OF tk;
    IF t.annotation->>'type' IS DISTINCT FROM 'classification' THEN
        RETURN '{"fallback": "type", "counted": true}';
    END IF;
    v_names := ARRAY(SELECT jsonb_array_elements_text(t.annotation->'labels'));
    v_k := coalesce(array_length(v_names, 1), 0);
    IF jsonb_typeof(p_answer) IS DISTINCT FROM 'object'
       OR (SELECT count(*) FROM jsonb_object_keys(p_answer)) <> 1
       OR jsonb_typeof(p_answer->'label') IS DISTINCT FROM 'string'
       OR NOT (p_answer->>'label' = ANY (v_names)) THEN
        RETURN '{"fallback": "answer", "counted": true}';
    END IF;
    v_label := p_answer->>'label';
    IF coalesce(t.min_answer_s, 0) > 0
       AND extract(epoch FROM (p_now - a.leased_at)) < t.min_answer_s THEN
        RETURN '{"fallback": "fast", "counted": true}';
    END IF;
    IF EXISTS (SELECT 1 FROM project_models m
                WHERE m.project_id = a.project_id AND m.state IS NOT NULL) THEN
        RETURN '{"fallback": "model", "counted": true}';
    END IF;
    IF t.is_gold AND t.qualification_gold_tasks > 0 THEN
        SELECT s.qualified_at INTO v_qualified FROM worker_skills s
         WHERE s.project_id = a.project_id AND s.worker_id = v_worker;
        v_has_skill := FOUND;
        IF NOT v_has_skill OR v_qualified IS NULL THEN
            RETURN '{"fallback": "qualification", "counted": true}';
        END IF;
    END IF;
    v_doubt := coalesce((SELECT q.benefit_of_doubt_below FROM quality_settings q WHERE q.id = 1),
                        0.6);

    -- The posterior of app.quality.engine.ClassificationEngine (no fitted model): a worker's
    -- submit-time confusion matrix (app.quality.skills, migration 0022) when its row has one,
    -- else one coin; the same operations in the same order, so the same numbers. ``v_own``
    -- keeps each answer's log-likelihoods under its worker's gold-only matrix (``verified``),
    -- ``v_lv`` their sum: what the leave-one-out posteriors below are made of.
    v_lp := array_fill(0.0::float8, ARRAY[v_k]);
    v_lv := array_fill(0.0::float8, ARRAY[v_k]);
    FOR r IN
        SELECT x.id, x.worker_id, x.status,
               CASE WHEN x.id = p_id THEN v_label ELSE x.answer->>'label' END AS label,
               coalesce(s.graded, 0) AS graded, coalesce(s.agreement_sum, 0.0) AS right_sum,
               s.confusion AS conf
          FROM assignments x
          LEFT JOIN worker_skills s
                 ON s.project_id = a.project_id AND s.worker_id = x.worker_id
         WHERE x.task_id = a.task_id
           AND ((x.status IN ('submitted', 'accepted', 'rejected')
                 AND (x.reason IS NULL
                      OR x.reason <> 'excluded: the worker was banned from this project'))
                OR x.id = p_id)
         ORDER BY CASE WHEN x.id = p_id THEN p_now ELSE x.submitted_at END, x.id
    LOOP
        v_n := v_n + 1;
        v_ids := v_ids || r.id::text;
        v_ws := v_ws || r.worker_id::text;
        v_st := v_st || CASE WHEN r.id = p_id THEN 'submitted' ELSE r.status END::text;
        v_li := array_position(v_names, r.label);
        v_ls := v_ls || v_li;
        IF r.conf IS NULL THEN
            v_acc := (3.5 + r.right_sum) / ((3.5 + r.right_sum) + ((1.5 + r.graded) - r.right_sum));
            v_p := least(greatest(v_acc, 1.0 / v_k + 1e-3), 1 - 1e-6);
            v_off := (1.0 - v_p) / greatest(v_k - 1, 1);
            v_diag := v_off + (v_p - v_off);
            FOR i IN 1 .. v_k LOOP
                v_c := ln(CASE WHEN i = v_li THEN v_diag ELSE v_off END);
                v_lp[i] := v_lp[i] + v_c;
                v_own := v_own || v_c;
                v_lv[i] := v_lv[i] + v_c;
            END LOOP;
        ELSE
            v_eff := tessera_confusion_effective(r.conf, v_k);
            v_gold := tessera_confusion_counts(r.conf, 'gold', v_k);
            FOR i IN 1 .. v_k LOOP
                v_lp[i] := v_lp[i] + ln(tessera_confusion_cell(v_eff, v_k, i, v_li));
                v_c := ln(tessera_confusion_cell(v_gold, v_k, i, v_li));
                v_own := v_own || v_c;
                v_lv[i] := v_lv[i] + v_c;
            END LOOP;
        END IF;
    END LOOP;
    v_mx := NULL;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := ln(1.0 / v_k) + v_lp[i];
        IF v_mx IS NULL OR v_lp[i] > v_mx THEN v_mx := v_lp[i]; END IF;
    END LOOP;
    v_tot := 0.0;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := exp(v_lp[i] - v_mx);
        v_tot := v_tot + v_lp[i];
    END LOOP;
    v_best := 1;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := v_lp[i] / v_tot;
        IF v_lp[i] > v_lp[v_best] THEN v_best := i; END IF;
    END LOOP;
    v_conf := v_lp[v_best];

    v_omin := CASE WHEN coalesce(t.overlap_min, 0) = 0 THEN 1 ELSE t.overlap_min END;
    v_omax := coalesce(t.overlap_max, 0);
    v_cmin := CASE WHEN coalesce(t.confidence, 0) = 0 THEN 1.0 ELSE t.confidence END;
    v_complete := NOT t.is_gold AND t.status <> 'completed' AND v_n > 0
                  AND ((v_n >= v_omin AND v_conf >= v_cmin) OR v_n >= v_omax);

    -- Each answer's crowd evidence (service._evidence): the other answers' posterior over the
    -- truth, weighed by gold-only matrices, in the column of the label it gave; none for an
    -- answer alone.
    FOR j IN 1 .. v_n LOOP
        v_incj := NULL;
        IF v_n >= 2 AND NOT t.is_gold AND (v_complete OR t.status = 'completed') THEN
            v_loo := array_fill(0.0::float8, ARRAY[v_k]);
            v_lmx := NULL;
            FOR i IN 1 .. v_k LOOP
                v_loo[i] := ln(1.0 / v_k) + (v_lv[i] - v_own[(j - 1) * v_k + i]);
                IF v_lmx IS NULL OR v_loo[i] > v_lmx THEN v_lmx := v_loo[i]; END IF;
            END LOOP;
            v_ltot := 0.0;
            FOR i IN 1 .. v_k LOOP
                v_loo[i] := exp(v_loo[i] - v_lmx);
                v_ltot := v_ltot + v_loo[i];
            END LOOP;
            v_eff := array_fill(0.0::float8, ARRAY[v_k * v_k]);
            FOR i IN 1 .. v_k LOOP
                v_eff[(i - 1) * v_k + v_ls[j]] := v_loo[i] / v_ltot;
            END LOOP;
            v_incj := jsonb_build_object('crowd', to_jsonb(v_eff));
        END IF;
        v_inc := v_inc || v_incj;
    END LOOP;

    UPDATE tasks SET answer_count = answer_count + 1,
                     consensus = jsonb_build_object('label', v_names[v_best]),
                     confidence = v_conf,
                     status = CASE WHEN v_complete THEN 'completed' ELSE status END,
                     completed_at = CASE WHEN v_complete THEN p_now ELSE completed_at END
     WHERE id = a.task_id;
    IF v_complete THEN
        DELETE FROM task_queue WHERE task_id = a.task_id;
    END IF;

    -- Verdicts: every answer of a task completing now, or this one of a completed task (a
    -- late answer); none for gold (graded later, away from its submit) or an open task.
    WITH judged AS (
        SELECT j.id, j.worker_id, j.status, j.inc,
               CASE WHEN j.li = v_best THEN 1.0::float8 ELSE 0.0::float8 END AS score,
               CASE WHEN j.li = v_best
                    THEN format('label %s matches the consensus', v_names[j.li])
                    ELSE format('label %s; consensus %s', v_names[j.li], v_names[v_best])
               END AS why
          FROM unnest(v_ids, v_ws, v_st, v_ls, v_inc) AS j(id, worker_id, status, li, inc)
         WHERE NOT t.is_gold AND (v_complete OR (t.status = 'completed' AND j.id = p_id))
    ), verdicts AS (
        SELECT jd.*,
               CASE WHEN jd.score >= 0.5 OR v_conf < v_doubt THEN 'accepted' ELSE 'rejected'
               END AS verdict,
               CASE WHEN jd.score >= 0.5 THEN jd.why
                    WHEN v_conf < v_doubt
                    THEN format('benefit of the doubt: the consensus is unsure (%s); %s',
                                to_char(round(v_conf::numeric, 2), 'FM0.00'), jd.why)
                    ELSE jd.why
               END AS reason
          FROM judged jd
    ), written AS (
        UPDATE assignments x
           SET status = CASE WHEN x.id = p_id THEN 'submitted' ELSE x.status END,
               answer = CASE WHEN x.id = p_id THEN jsonb_build_object('label', v_label)
                             ELSE x.answer END,
               submitted_at = CASE WHEN x.id = p_id THEN p_now ELSE x.submitted_at END,
               auto_accept_at = CASE WHEN x.id = p_id
                                     THEN p_now + make_interval(secs => t.auto_accept_s)
                                     ELSE x.auto_accept_at END,
               agreement = v.score,
               proposed_verdict = CASE WHEN v.status = 'submitted' THEN v.verdict
                                       ELSE x.proposed_verdict END,
               reason = CASE WHEN v.status = 'submitted' THEN v.reason ELSE x.reason END
          FROM verdicts v WHERE x.id = v.id
        RETURNING x.id
    ), graded AS (
        INSERT INTO worker_skills AS s (project_id, worker_id, graded, agreement_sum,
                                        fast_answers, gold_graded, gold_agreement_sum,
                                        confusion, updated_at)
        SELECT a.project_id, v.worker_id, 1, greatest(0.0, least(1.0, v.score)), 0, 0, 0.0,
               tessera_confusion_merge(NULL, v.inc, v_k), p_now
          FROM verdicts v WHERE v_conf >= v_doubt ORDER BY v.worker_id
        ON CONFLICT (project_id, worker_id) DO UPDATE
           SET graded = s.graded + 1, agreement_sum = s.agreement_sum + excluded.agreement_sum,
               confusion = tessera_confusion_merge(s.confusion, excluded.confusion, v_k),
               updated_at = excluded.updated_at
        RETURNING s.worker_id, s.graded, s.agreement_sum, s.banned_at, s.confusion
    )
    -- The workers service.ban_if_due must look at: the rule's point estimate below the
    -- threshold (its credible bound, above the estimate, decides there): one coin for a row
    -- without confusion counts, else the confusion rows' balanced accuracy (service._ban_reason).
    SELECT coalesce(array_agg(g.worker_id), '{}') INTO v_check FROM graded g
     WHERE g.banned_at IS NULL
       AND CASE WHEN g.confusion IS NULL
                THEN g.graded >= 5
                     AND (3.5 + g.agreement_sum) / ((3.5 + g.agreement_sum) + ((1.5 + g.graded) - g.agreement_sum))
                         < t.ban_below_accuracy
                ELSE (SELECT sum(e) FROM unnest(tessera_confusion_effective(g.confusion, v_k)) e) >= 5
                     AND tessera_confusion_balanced(tessera_confusion_effective(g.confusion, v_k), v_k)
                         < t.ban_below_accuracy
           END;
    IF NOT EXISTS (SELECT 1 FROM assignments x WHERE x.id = p_id AND x.status = 'submitted')
    THEN  -- not judged now: stored alone
        UPDATE assignments
           SET status = 'submitted', answer = jsonb_build_object('label', v_label),
               submitted_at = p_now,
               auto_accept_at = p_now + make_interval(secs => t.auto_accept_s)
         WHERE id = p_id;
    END IF;
    -- The webhook outbox (app.webhooks.events.emit, the same rows): written in this call, so
    -- they exist if and only if the answer does; nothing when no webhook subscribes.
    v_at := to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, order_key, payload,
                                    created_at, status, attempts, next_attempt_at)
    SELECT s.webhook_id, p_evt_submitted, 'assignment.submitted', a.batch_id,
           jsonb_build_object('assignment_id', p_id, 'task_id', a.task_id,
                              'batch_id', a.batch_id, 'project_id', a.project_id,
                              'worker_id', v_worker, 'submitted_at', v_at),
           p_now, 'pending', 0, p_now
      FROM webhook_subscriptions s
     WHERE s.account_id = t.requester_id AND s.event_type = 'assignment.submitted';
    IF v_complete THEN
        INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, order_key, payload,
                                        created_at, status, attempts, next_attempt_at)
        SELECT s.webhook_id, p_evt_completed, 'task.completed', t.batch_id,
               jsonb_build_object('task_id', a.task_id, 'batch_id', t.batch_id,
                                  'project_id', a.project_id,
                                  'answer', jsonb_build_object('label', v_names[v_best]),
                                  'confidence', v_conf, 'answer_count', t.answer_count + 1,
                                  'completed_at', v_at),
               p_now, 'pending', 0, p_now
          FROM webhook_subscriptions s
         WHERE s.account_id = t.requester_id AND s.event_type = 'task.completed';
    END IF;
    RETURN jsonb_build_object(
        'project_id', a.project_id, 'task_id', a.task_id, 'reward', a.reward_micros,
        'leased_at', a.leased_at, 'expires_at', a.expires_at, 'check_bans', to_jsonb(v_check));
END
$fn$;
"""


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("webhooks_account_id_fkey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("webhooks_pkey")),
    )
    op.create_index("ix_webhooks_account_id", "webhooks", ["account_id"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("webhook_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("webhook_subscriptions_webhook_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "webhook_id", "event_type", name=op.f("webhook_subscriptions_pkey")
        ),
    )
    op.create_index(
        "ix_webhook_subscriptions_account_id_event_type",
        "webhook_subscriptions",
        ["account_id", "event_type"],
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("order_key", sa.String(length=32), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("webhook_deliveries_webhook_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("webhook_id", "event_id", name=op.f("webhook_deliveries_pkey")),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_order_key_event_id",
        "webhook_deliveries",
        ["webhook_id", "order_key", "event_id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {OLD_SUBMIT_SIGNATURE}")
        op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {NEW_SUBMIT_SIGNATURE}")
        op.execute(_previous_submit())
    op.drop_index(
        "ix_webhook_deliveries_webhook_id_order_key_event_id", table_name="webhook_deliveries"
    )
    op.drop_index("ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(
        "ix_webhook_subscriptions_account_id_event_type", table_name="webhook_subscriptions"
    )
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_webhooks_account_id", table_name="webhooks")
    op.drop_table("webhooks")


def _previous_submit() -> str:
    """Revision 0022's submit function, read from that revision (one copy of its text)."""
    path = Path(__file__).with_name("2026-12-01-1700_worker_confusion.py")
    spec = importlib.util.spec_from_file_location("tessera_revision_0022", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.SUBMIT
    return text
