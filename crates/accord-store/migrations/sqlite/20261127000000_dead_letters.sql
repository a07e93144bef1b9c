-- The dead-letter log: helpdesk payloads the adapters refused, kept for inspection.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

-- One refused payload: which adapter refused it, why, the payload's field at fault, who sent
-- it (a principal's name such as `token:zammad`, never a secret) and the payload as received
-- (at most the server's body limit, since a larger body is refused before it is read).
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    adapter TEXT NOT NULL CHECK (adapter <> ''),
    reason TEXT NOT NULL CHECK (reason <> ''),
    field TEXT,
    principal TEXT NOT NULL CHECK (principal <> ''),
    payload BLOB NOT NULL
) STRICT;
