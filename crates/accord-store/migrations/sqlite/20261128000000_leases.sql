-- Leases: work that exactly one server node does at a time (running a probe), held by the
-- node's name until an instant and renewed while the node lives; a dead node's lease runs out
-- and another node takes it.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

CREATE TABLE leases (
    -- What is leased: `probe:NAME`, `node:NAME`.
    name TEXT PRIMARY KEY CHECK (name <> ''),
    -- The node holding it.
    owner TEXT NOT NULL CHECK (owner <> ''),
    -- Since when this owner has held it without a break.
    acquired_at INTEGER NOT NULL,
    -- When it runs out unless renewed.
    expires_at INTEGER NOT NULL
) STRICT;
