-- The dead-letter log: helpdesk payloads the adapters refused, kept for inspection.
-- Instants are `timestamptz` (microsecond resolution).

-- One refused payload: which adapter refused it, why, the payload's field at fault, who sent
-- it (a principal's name such as `token:zammad`, never a secret) and the payload as received
-- (at most the server's body limit, since a larger body is refused before it is read).
CREATE TABLE dead_letters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    adapter TEXT NOT NULL CHECK (adapter <> ''),
    reason TEXT NOT NULL CHECK (reason <> ''),
    field TEXT,
    principal TEXT NOT NULL CHECK (principal <> ''),
    payload BYTEA NOT NULL
);
