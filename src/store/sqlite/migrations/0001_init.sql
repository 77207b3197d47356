-- Weft SQLite schema, version 1. A released migration is never edited: add a new numbered file.
-- Times are epoch milliseconds (INTEGER). JSON columns hold text (arrays, SerializedError).
-- Statuses are not CHECK-constrained on purpose: SQLite can't alter a CHECK without rebuilding
-- the table, and the state machines in core/states.ts are the guard.

CREATE TABLE runs (
  id              TEXT PRIMARY KEY,          -- time-sortable: ORDER BY id is creation order
  kind            TEXT NOT NULL,
  definition      TEXT NOT NULL,
  status          TEXT NOT NULL,
  input           TEXT NOT NULL,
  outputs         TEXT NOT NULL,             -- JSON array of node names
  trigger         TEXT NOT NULL,
  parent_run_id   TEXT,
  idempotency_key TEXT,
  tags            TEXT NOT NULL,             -- JSON array
  priority        INTEGER NOT NULL DEFAULT 0,
  error           TEXT,                      -- JSON SerializedError
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  updated_at      INTEGER NOT NULL
);

-- One run per (definition, idempotency key).
CREATE UNIQUE INDEX runs_idempotency ON runs (definition, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- Listing newest first (the primary key serves the unfiltered list).
CREATE INDEX runs_status ON runs (status, id DESC);
CREATE INDEX runs_definition ON runs (definition, id DESC);

CREATE TABLE steps (
  run_id           TEXT NOT NULL,
  key              TEXT NOT NULL,
  node             TEXT NOT NULL,
  parent_key       TEXT,                     -- fan-out item: its map step
  idx              INTEGER,                  -- fan-out item: its position
  status           TEXT NOT NULL,
  attempt          INTEGER NOT NULL DEFAULT 0,
  output           TEXT,
  error            TEXT,                     -- JSON SerializedError
  waiting_on       INTEGER NOT NULL DEFAULT 0,
  available_at     INTEGER NOT NULL,
  priority         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  origin           TEXT NOT NULL DEFAULT 'run',
  queued_at        INTEGER,
  started_at       INTEGER,
  finished_at      INTEGER,
  PRIMARY KEY (run_id, key)
);

-- Claiming: only queued steps, in claim order. The second serves claims limited to one run.
CREATE INDEX steps_claim ON steps (priority DESC, queued_at, key) WHERE status = 'queued';
CREATE INDEX steps_claim_run ON steps (run_id, priority DESC, queued_at, key)
  WHERE status = 'queued';
-- nextWakeAt: earliest availableAt among queued steps.
CREATE INDEX steps_wake ON steps (available_at) WHERE status = 'queued';
-- "Is anything left in this run?" without scanning the run's finished steps. Queries must repeat
-- this exact IN list for SQLite to use the index.
CREATE INDEX steps_unfinished ON steps (run_id) WHERE status IN ('pending', 'queued', 'running');
-- The lease reaper.
CREATE INDEX steps_leases ON steps (lease_expires_at) WHERE status = 'running';
-- A map step's items in order.
CREATE INDEX steps_items ON steps (run_id, parent_key, idx) WHERE parent_key IS NOT NULL;

-- Dependencies, for counting down dependents when a step finishes.
CREATE TABLE step_edges (
  run_id   TEXT NOT NULL,
  from_key TEXT NOT NULL,                    -- the dependency
  to_key   TEXT NOT NULL,                    -- the dependent
  PRIMARY KEY (run_id, from_key, to_key)
) WITHOUT ROWID;

-- One row per finished attempt (succeeded, failed, cancelled, interrupted). WITHOUT ROWID: one
-- B-tree instead of a table plus its key index, one page less written per completion.
CREATE TABLE attempts (
  run_id      TEXT NOT NULL,
  step_key    TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  status      TEXT NOT NULL,
  worker_id   TEXT,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  error       TEXT,                          -- JSON SerializedError
  PRIMARY KEY (run_id, step_key, attempt)
) WITHOUT ROWID;

CREATE TABLE logs (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: a seq is never reused, so cursors hold
  run_id   TEXT NOT NULL,
  step_key TEXT,
  attempt  INTEGER,
  at       INTEGER NOT NULL,
  level    TEXT NOT NULL,
  message  TEXT NOT NULL
);

CREATE INDEX logs_run ON logs (run_id, seq);
CREATE INDEX logs_step ON logs (run_id, step_key, seq);

CREATE TABLE workers (
  id           TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  definitions  TEXT NOT NULL                 -- JSON array
);
