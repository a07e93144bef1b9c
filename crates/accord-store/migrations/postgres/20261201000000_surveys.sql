-- Accord's own satisfaction survey: one survey per ticket, recorded once whatever the number of
-- server nodes when the ticket is first found solved, sent by e-mail when due, and used once.
-- Instants are BIGINT microseconds since 1970-01-01T00:00:00Z (UTC).

CREATE TABLE surveys (
    -- One survey per ticket: a ticket solved again after a reopen gets no second one.
    ticket TEXT PRIMARY KEY CHECK (ticket <> ''),
    customer TEXT NOT NULL,
    -- The requester's e-mail address, from the ticket's created event.
    address TEXT NOT NULL,
    -- The token id: the random nonce the link's signature covers, so only this survey's link
    -- is accepted for the ticket.
    nonce TEXT NOT NULL,
    -- When the ticket was found solved (or closed).
    solved_at BIGINT NOT NULL,
    -- When to send the e-mail (next); the back-off after a failed attempt moves it.
    due_at BIGINT NOT NULL,
    -- When the link stops working.
    expires_at BIGINT NOT NULL,
    -- `cancelled`: the ticket was open again when the e-mail was due.
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_code BIGINT,
    last_error TEXT,
    -- The node sending it now, until `lease_until`; a dead node's lease runs out.
    lease_owner TEXT,
    lease_until BIGINT,
    recorded_at BIGINT NOT NULL,
    -- The node that recorded it.
    recorded_by TEXT NOT NULL,
    sent_at BIGINT,
    -- When the rating was given through the link: the used flag (NULL: not used).
    used_at BIGINT
);

CREATE INDEX surveys_due ON surveys (status, due_at);
