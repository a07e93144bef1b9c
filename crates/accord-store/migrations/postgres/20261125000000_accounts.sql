-- Accounts: users who sign in, API tokens, web sessions and failed sign-ins.
-- Instants are `timestamptz` (microsecond resolution). Secrets are never stored: passwords as
-- PHC strings (Argon2id, computed by the caller), tokens, session ids and CSRF tokens as
-- lowercase hex SHA-256.

-- A person who signs in. Users are disabled, never deleted, so names in other tables and in
-- logs keep meaning one person.
CREATE TABLE users (
    name TEXT PRIMARY KEY CHECK (name <> ''),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$%'),
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'viewer', 'customer')),
    -- Invariant: set, not empty, exactly when the role is `customer`.
    customer TEXT CHECK (customer <> ''),
    created_at TIMESTAMPTZ NOT NULL,
    -- When the password was last set; `created_at` until it is changed.
    password_changed_at TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ,
    CHECK ((role = 'customer') = (customer IS NOT NULL))
);

-- An API token: it acts as `role`, narrowed to `scopes` (comma-separated scope words).
CREATE TABLE tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL CHECK (name <> ''),
    secret_hash TEXT NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    scopes TEXT NOT NULL CHECK (scopes <> ''),
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'viewer', 'customer')),
    -- Invariant: set, not empty, exactly when the role is `customer`.
    customer TEXT CHECK (customer <> ''),
    -- Who created it, as they said; not necessarily a user.
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    CHECK ((role = 'customer') = (customer IS NOT NULL))
);

-- A signed-in browser, by the hash of its cookie.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    user_name TEXT NOT NULL REFERENCES users (name),
    csrf_token_hash TEXT NOT NULL CHECK (csrf_token_hash ~ '^[0-9a-f]{64}$'),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);

CREATE INDEX sessions_by_user ON sessions (user_name);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- One row per failed sign-in, by what is rate limited (a user name, a client address): counting
-- rows in a window works the same from every server process sharing the database.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
