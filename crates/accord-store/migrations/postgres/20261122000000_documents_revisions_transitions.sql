-- Documents, their revisions, and the lifecycle transitions of those revisions.
-- Instants are `timestamptz` (microsecond resolution).

CREATE TABLE documents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (kind, name)
);

-- Invariant: numbers run 1, 2, 3, ... per document, one per applied change of its content.
CREATE TABLE revisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    number BIGINT NOT NULL CHECK (number >= 1),
    -- Lowercase hex SHA-256 of `canonical`, computed by the caller.
    content_hash TEXT NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    canonical TEXT NOT NULL,
    source_text TEXT NOT NULL,
    source_path TEXT NOT NULL,
    -- Line of the document's first line in its file, from 1.
    source_line BIGINT NOT NULL CHECK (source_line >= 1),
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    effective_from TIMESTAMPTZ,
    -- Exclusive: the revision stops applying at this instant.
    effective_until TIMESTAMPTZ CHECK (effective_until > effective_from),
    UNIQUE (document_id, number)
);

-- Recording order is `id` order: transitions of one document are written under a lock on its
-- `documents` row, so their ids grow in the order they were recorded.
CREATE TABLE transitions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revision_id BIGINT NOT NULL REFERENCES revisions (id),
    -- NULL for the initial `draft` recorded when the revision is created.
    from_state TEXT CHECK (from_state IN
        ('draft', 'in_review', 'approved', 'active', 'superseded', 'expired', 'terminated')),
    to_state TEXT NOT NULL CHECK (to_state IN
        ('draft', 'in_review', 'approved', 'active', 'superseded', 'expired', 'terminated')),
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX transitions_by_revision ON transitions (revision_id, id);
