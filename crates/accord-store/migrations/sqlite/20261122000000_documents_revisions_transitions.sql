-- Documents, their revisions, and the lifecycle transitions of those revisions.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC); SQLite has no instant type.

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (kind, name)
) STRICT;

-- Invariant: numbers run 1, 2, 3, ... per document, one per applied change of its content.
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    number INTEGER NOT NULL CHECK (number >= 1),
    -- Lowercase hex SHA-256 of `canonical`, computed by the caller.
    content_hash TEXT NOT NULL
        CHECK (length(content_hash) = 64 AND content_hash NOT GLOB '*[^0-9a-f]*'),
    canonical TEXT NOT NULL,
    source_text TEXT NOT NULL,
    source_path TEXT NOT NULL,
    -- Line of the document's first line in its file, from 1.
    source_line INTEGER NOT NULL CHECK (source_line >= 1),
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    effective_from INTEGER,
    -- Exclusive: the revision stops applying at this instant.
    effective_until INTEGER CHECK (effective_until > effective_from),
    UNIQUE (document_id, number)
) STRICT;

-- Recording order is `id` order.
CREATE TABLE transitions (
    id INTEGER PRIMARY KEY,
    revision_id INTEGER NOT NULL REFERENCES revisions (id),
    -- NULL for the initial `draft` recorded when the revision is created.
    from_state TEXT CHECK (from_state IN
        ('draft', 'in_review', 'approved', 'active', 'superseded', 'expired', 'terminated')),
    to_state TEXT NOT NULL CHECK (to_state IN
        ('draft', 'in_review', 'approved', 'active', 'superseded', 'expired', 'terminated')),
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    effective_at INTEGER NOT NULL
) STRICT;

CREATE INDEX transitions_by_revision ON transitions (revision_id, id);
