-- Scheduled compliance reports: one row per customer and period, claimed by the server node
-- whose insert wins before it sends, so a report goes out once whatever the number of nodes;
-- a failed send is retried on the same row with back-off.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

CREATE TABLE report_sends (
    customer TEXT NOT NULL CHECK (customer <> ''),
    -- `2026-10`, `2026-Q4` or `2026`: the period the report covers.
    period TEXT NOT NULL CHECK (period <> ''),
    -- `month`, `quarter` or `year`: the schedule that asked for it.
    every TEXT NOT NULL CHECK (every IN ('month', 'quarter', 'year')),
    -- When the schedule made it due.
    due_at INTEGER NOT NULL,
    -- The formats attached, comma-separated: `pdf,csv`.
    formats TEXT NOT NULL,
    -- The e-mail addresses, one per line, as resolved when the row was claimed.
    recipients TEXT NOT NULL,
    -- `pending` until sent or given up.
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due while pending.
    next_attempt_at INTEGER NOT NULL,
    last_code INTEGER,
    last_error TEXT,
    -- The node sending it now, until `lease_until`; a dead node's lease runs out.
    lease_owner TEXT,
    lease_until INTEGER,
    claimed_at INTEGER NOT NULL,
    -- The node whose insert won.
    claimed_by TEXT NOT NULL,
    sent_at INTEGER,
    -- The evidence, once generated: the event-log position and the as-of instant the report
    -- was computed from (a retry recomputes the same bytes from them), and the files as JSON
    -- `[{"format", "fileName", "sha256", "bytes"}]`.
    log_position INTEGER,
    as_of INTEGER,
    files TEXT,
    PRIMARY KEY (customer, period)
) STRICT;

CREATE INDEX report_sends_due ON report_sends (status, next_attempt_at);
