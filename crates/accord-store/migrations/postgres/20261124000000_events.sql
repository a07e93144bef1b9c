-- The ticket event log: every event a helpdesk sent, append-only, in arrival order.
-- Instants are `timestamptz` (microsecond resolution).

-- Invariant: positions are 1, 2, 3, ... without gaps, handed out by one writer at a time (a
-- transaction advisory lock taken before the head is read), so they increase in commit order.
-- Not an identity column: a sequence hands out values outside that lock and leaves gaps when a
-- batch rolls back.
CREATE TABLE events (
    position BIGINT PRIMARY KEY CHECK (position > 0),
    -- Unique across all tickets: an event sent again is found by its id.
    id TEXT NOT NULL UNIQUE CHECK (id <> ''),
    ticket TEXT NOT NULL CHECK (ticket <> ''),
    -- When it happened, as the event says.
    at TIMESTAMPTZ NOT NULL,
    -- The event's type as written in it (`created`, `comment`, ...).
    kind TEXT NOT NULL CHECK (kind <> ''),
    -- The whole event as canonical JSON on one line; the other columns are copies for lookups.
    body TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX events_by_ticket ON events (ticket, position);

-- The log is evidence: rows are never changed or removed.
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_are_not_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
