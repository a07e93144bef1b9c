-- The audit log: every change to documents, lifecycle states, users, tokens and settings, in
-- the transaction of the change, hash-chained so that an edited or removed entry shows.
-- Instants are BIGINT microseconds since 1970-01-01T00:00:00Z (UTC), as on SQLite, so the
-- hashed text of an entry is the same on both backends.

-- Invariant: seq is 1, 2, 3, ... without gaps, handed out by one writer at a time (a
-- transaction advisory lock taken before the head is read); each entry's prev_hash is the hash
-- of the entry before it (64 zeros for the first), and hash is SHA-256 over the entry's fields
-- and prev_hash (accord-store's `audit::entry_hash`, described in docs/audit.md). Not an
-- identity column: a sequence hands out values outside that lock and leaves gaps on rollback.
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY CHECK (seq > 0),
    at BIGINT NOT NULL,
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
);

-- The log is evidence: rows are never changed or removed.
CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

CREATE TRIGGER audit_is_not_truncated BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
