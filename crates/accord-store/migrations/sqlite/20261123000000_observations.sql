-- Availability observations, kept as intervals rather than one row per result.
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC).

-- What is observed: a probe, a heartbeat or a stream of request counts, by name, with where
-- its timeline stopped so recording can go on after a restart.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('probe', 'heartbeat', 'requests')),
    name TEXT NOT NULL,
    -- Probe: failed results in a row before the component is down.
    retries INTEGER CHECK (retries >= 0),
    -- Probe: the longest spacing of results that is not a gap. Heartbeat: the check-in period.
    every_us INTEGER CHECK (every_us > 0),
    -- Heartbeat: how late a check-in may come.
    grace_us INTEGER CHECK (grace_us >= 0),
    first_at INTEGER,
    last_at INTEGER CHECK (last_at >= first_at),
    -- Probe: failures in a row not yet declared down, and the first of them.
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at INTEGER,
    UNIQUE (kind, name)
) STRICT;

-- Invariant: per source, disjoint and sorted by start; at most one open (`end_at` NULL), the last.
CREATE TABLE outages (
    source_id INTEGER NOT NULL REFERENCES sources (id),
    start_at INTEGER NOT NULL,
    end_at INTEGER CHECK (end_at > start_at),
    PRIMARY KEY (source_id, start_at)
) STRICT, WITHOUT ROWID;

-- Spans with no probe result for longer than the source's `every_us`.
CREATE TABLE gaps (
    source_id INTEGER NOT NULL REFERENCES sources (id),
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL CHECK (end_at > start_at),
    PRIMARY KEY (source_id, start_at)
) STRICT, WITHOUT ROWID;

-- One latency histogram per source and minute: `bucket:count` pairs separated by spaces,
-- buckets ascending (see accord_core::availability::LatencyHistogram).
CREATE TABLE latency_minutes (
    source_id INTEGER NOT NULL REFERENCES sources (id),
    minute INTEGER NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (source_id, minute)
) STRICT, WITHOUT ROWID;

-- Good and total requests per interval, as the service pushed them; a repeated push of an
-- interval replaces it.
CREATE TABLE request_counts (
    source_id INTEGER NOT NULL REFERENCES sources (id),
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL CHECK (end_at > start_at),
    good INTEGER NOT NULL CHECK (good >= 0 AND good <= total),
    total INTEGER NOT NULL,
    PRIMARY KEY (source_id, start_at)
) STRICT, WITHOUT ROWID;

-- Incidents recorded by people or imported; recording one again by id replaces it.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    start_at INTEGER NOT NULL,
    end_at INTEGER CHECK (end_at > start_at),
    impact TEXT NOT NULL CHECK (impact IN ('major', 'partial', 'degraded')),
    excluded TEXT CHECK (excluded IN ('maintenance', 'force_majeure', 'customer_caused')),
    reason TEXT NOT NULL,
    cause TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;

CREATE INDEX incidents_by_start ON incidents (start_at);

-- Invariant: every incident affects at least one service; `component` '' is the whole service.
CREATE TABLE incident_affects (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    component TEXT NOT NULL,
    PRIMARY KEY (incident_id, service, component)
) STRICT, WITHOUT ROWID;
