-- The audit log: every change to documents, lifecycle states, users, tokens and settings, in
-- the transaction of the change, hash-chained so that an edited or removed entry shows.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

-- Invariant: seq is 1, 2, 3, ... without gaps, handed out by one writer at a time
-- (`BEGIN IMMEDIATE`); each entry's prev_hash is the hash of the entry before it (64 zeros for
-- the first), and hash is SHA-256 over the entry's fields and prev_hash (accord-store's
-- `audit::entry_hash`, described in docs/audit.md).
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    at INTEGER NOT NULL,
    -- Who made the change, as the caller named them.
    actor TEXT NOT NULL,
    -- What was done: `revision.create`, `lifecycle.activate`, `user.create`, `token.revoke`, ...
    action TEXT NOT NULL CHECK (action <> ''),
    -- What it was done to: `Agreement/acme-sla r3`, `user ann`, `token 7`.
    subject TEXT NOT NULL,
    -- The change's particulars as canonical JSON (sorted keys); never a secret or its hash.
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;

-- The log is evidence: rows are never changed or removed.
CREATE TRIGGER audit_is_not_updated BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_is_not_deleted BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
