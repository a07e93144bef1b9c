-- Escalations and notifications: each escalation rung or breach a clock reached, recorded once
-- whatever the number of server nodes, and the messages it gave, with every delivery attempt.
-- Instants are BIGINT microseconds since 1970-01-01T00:00:00Z (UTC).

-- A rung or breach reached by one cycle of one clock. The key makes it exactly once: every node
-- may find the same firing, and only the insert that takes it creates its deliveries.
CREATE TABLE escalation_firings (
    ticket TEXT NOT NULL,
    metric TEXT NOT NULL,
    -- The clock's cycle, from 1.
    cycle BIGINT NOT NULL CHECK (cycle >= 1),
    -- The rung's position in the effective ladder; -1 for the breach.
    rung BIGINT NOT NULL CHECK (rung >= -1),
    -- `75%`, `30m before` or `breach`.
    threshold TEXT NOT NULL,
    fired_at BIGINT NOT NULL,
    customer TEXT,
    service TEXT,
    priority TEXT,
    -- The agreement revisions the clock ran on: `corporate-sla r2, acme-sla r1`.
    revisions TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    -- The node that recorded it.
    recorded_by TEXT NOT NULL,
    -- `notified` (deliveries made), `none` (nobody to notify), `stale` (found too long after it
    -- fired to be worth a message: history loaded late).
    outcome TEXT NOT NULL CHECK (outcome IN ('notified', 'none', 'stale')),
    PRIMARY KEY (ticket, metric, cycle, rung)
);

CREATE INDEX escalation_firings_by_time ON escalation_firings (fired_at);

-- One message to one recipient, rendered when its firing was recorded.
CREATE TABLE notification_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket TEXT NOT NULL,
    metric TEXT NOT NULL,
    cycle BIGINT NOT NULL,
    rung BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- An e-mail address or a URL; empty when the recipient is unknown.
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    -- When to try next (quiet hours and back-off move it).
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_code BIGINT,
    last_error TEXT,
    -- The node trying it now, until `lease_until`; a dead node's lease runs out.
    lease_owner TEXT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    FOREIGN KEY (ticket, metric, cycle, rung)
        REFERENCES escalation_firings (ticket, metric, cycle, rung)
);

CREATE INDEX notification_deliveries_due ON notification_deliveries (status, due_at);
CREATE INDEX notification_deliveries_by_firing
    ON notification_deliveries (ticket, metric, cycle, rung);

-- Every attempt to deliver, kept.
CREATE TABLE delivery_attempts (
    delivery BIGINT NOT NULL REFERENCES notification_deliveries (id),
    at BIGINT NOT NULL,
    node TEXT NOT NULL,
    -- The HTTP status or SMTP reply code, when the other side answered.
    code BIGINT,
    error TEXT
);

CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery, at);
