-- The ticket event log: every event a helpdesk sent, append-only, in arrival order.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

-- Invariant: positions are 1, 2, 3, ... without gaps, handed out by one writer at a time
-- (`BEGIN IMMEDIATE`), so they increase in commit order.
CREATE TABLE events (
    position INTEGER PRIMARY KEY CHECK (position > 0),
    -- Unique across all tickets: an event sent again is found by its id.
    id TEXT NOT NULL UNIQUE CHECK (id <> ''),
    ticket TEXT NOT NULL CHECK (ticket <> ''),
    -- When it happened, as the event says.
    at INTEGER NOT NULL,
    -- The event's type as written in it (`created`, `comment`, ...).
    kind TEXT NOT NULL CHECK (kind <> ''),
    -- The whole event as canonical JSON on one line; the other columns are copies for lookups.
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_ticket ON events (ticket, position);

-- The log is evidence: rows are never changed or removed.
CREATE TRIGGER events_are_not_updated BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER events_are_not_deleted BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
