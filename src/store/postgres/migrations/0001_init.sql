-- Weft Postgres schema, version 1. A released migration is never edited: add a new numbered file.
--
-- It mirrors the SQLite schema (its migrations 0001 and 0002) in one file, since none of it was
-- released for Postgres before. Times are epoch milliseconds (BIGINT; the store reads them as JS
-- numbers). Ids and keys are COLLATE "C" so that they sort and compare bytewise, as in SQLite:
-- run ids are time-sortable and `ORDER BY id` is creation order whatever the database's locale.
-- Lists of names are text[]; errors and wait details are jsonb; codec-encoded values stay text.
--
-- A parked workflow run's `$run` step is queued with available_at at its wake-up time, or at
-- NEVER = 9007199254740991 (2^53 - 1, the largest integer a JS number holds exactly) when only a
-- wake-up resumes it; journal entries are never claimed and have available_at = NEVER too. The
-- number is repeated below and in pg-statements.ts (NEVER), which must agree.

CREATE TABLE runs (
  id              TEXT COLLATE "C" PRIMARY KEY,  -- time-sortable: ORDER BY id is creation order
  kind            TEXT NOT NULL,
  definition      TEXT NOT NULL,
  status          TEXT NOT NULL,
  input           TEXT NOT NULL,
  outputs         TEXT[] NOT NULL,
  trigger         TEXT NOT NULL,
  parent_run_id   TEXT COLLATE "C",
  idempotency_key TEXT,
  tags            TEXT[] NOT NULL,
  priority        INTEGER NOT NULL DEFAULT 0,
  error           JSONB,                         -- SerializedError
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  updated_at      BIGINT NOT NULL,
  waiting_for     JSONB,                         -- WaitInfo, while the run is parked
  wait_event      TEXT,                          -- an event wait's type and key, for sendEvent
  wait_key        TEXT
);

-- One run per (definition, idempotency key).
CREATE UNIQUE INDEX runs_idempotency ON runs (definition, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- Listing newest first (the primary key serves the unfiltered list).
CREATE INDEX runs_status ON runs (status, id DESC);
CREATE INDEX runs_definition ON runs (definition, id DESC);
-- sendEvent finds the parked waits of an event type (and key) by index.
CREATE INDEX runs_wait_event ON runs (wait_event, wait_key) WHERE wait_event IS NOT NULL;
-- Child runs of a run (listChildRuns, cancelRun's cascade).
CREATE INDEX runs_parent ON runs (parent_run_id, id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE steps (
  run_id           TEXT COLLATE "C" NOT NULL,
  key              TEXT COLLATE "C" NOT NULL,
  -- Insertion order (SQLite's rowid): listSteps and failedKeys read steps in it.
  ord              BIGINT GENERATED ALWAYS AS IDENTITY,
  node             TEXT NOT NULL,
  kind             TEXT NOT NULL DEFAULT 'node',
  seq              INTEGER,                      -- a journal entry's position
  parent_key       TEXT COLLATE "C",             -- fan-out item: its map step
  idx              INTEGER,                      -- fan-out item: its position
  status           TEXT NOT NULL,
  attempt          INTEGER NOT NULL DEFAULT 0,
  output           TEXT,
  error            JSONB,                        -- SerializedError
  waiting_on       INTEGER NOT NULL DEFAULT 0,
  available_at     BIGINT NOT NULL,
  priority         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at BIGINT,
  origin           TEXT NOT NULL DEFAULT 'run',
  queued_at        BIGINT,
  started_at       BIGINT,
  finished_at      BIGINT,
  PRIMARY KEY (run_id, key)
);

-- Claiming: only claimable queued steps, in claim order; the second serves claims limited to
-- one run. Claim queries must repeat `available_at < 9007199254740991` for the planner to use
-- them: parked runs and journal entries stay out of the indexes every claim walks.
CREATE INDEX steps_claim ON steps (priority DESC, queued_at, key)
  WHERE status = 'queued' AND available_at < 9007199254740991;
CREATE INDEX steps_claim_run ON steps (run_id, priority DESC, queued_at, key)
  WHERE status = 'queued' AND available_at < 9007199254740991;
-- nextWakeAt: earliest availableAt among queued steps.
CREATE INDEX steps_wake ON steps (available_at) WHERE status = 'queued';
-- "Is anything left in this run?" without reading the run's finished steps.
CREATE INDEX steps_unfinished ON steps (run_id) WHERE status IN ('pending', 'queued', 'running');
-- The lease reaper.
CREATE INDEX steps_leases ON steps (lease_expires_at) WHERE status = 'running';
-- A map step's items in order.
CREATE INDEX steps_items ON steps (run_id, parent_key, idx) WHERE parent_key IS NOT NULL;

-- Dependencies, for counting down dependents when a step finishes.
CREATE TABLE step_edges (
  run_id   TEXT COLLATE "C" NOT NULL,
  from_key TEXT COLLATE "C" NOT NULL,          -- the dependency
  to_key   TEXT COLLATE "C" NOT NULL,          -- the dependent
  PRIMARY KEY (run_id, from_key, to_key)
);

-- One row per finished attempt (succeeded, failed, cancelled, interrupted).
CREATE TABLE attempts (
  run_id      TEXT COLLATE "C" NOT NULL,
  step_key    TEXT COLLATE "C" NOT NULL,
  attempt     INTEGER NOT NULL,
  status      TEXT NOT NULL,
  worker_id   TEXT,
  started_at  BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  error       JSONB,                           -- SerializedError
  PRIMARY KEY (run_id, step_key, attempt)
);

CREATE TABLE logs (
  -- A sequence never hands a number out twice, so cursors hold. Numbers are taken at insert,
  -- not commit: a follower reading `seq > cursor` may see a line of a later-committing
  -- transaction only after lines with higher seqs (known limit; SQLite has one writer).
  seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id   TEXT COLLATE "C" NOT NULL,
  step_key TEXT COLLATE "C",
  attempt  INTEGER,
  at       BIGINT NOT NULL,
  level    TEXT NOT NULL,
  message  TEXT NOT NULL
);

CREATE INDEX logs_run ON logs (run_id, seq);
CREATE INDEX logs_step ON logs (run_id, step_key, seq);

CREATE TABLE workers (
  id           TEXT COLLATE "C" PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  definitions  TEXT[] NOT NULL
);

CREATE TABLE events (
  id              TEXT COLLATE "C" PRIMARY KEY,
  type            TEXT NOT NULL,
  key             TEXT,
  payload         TEXT NOT NULL,               -- codec-encoded
  idempotency_key TEXT,
  sent_at         BIGINT NOT NULL
);

-- One event per idempotency key.
CREATE UNIQUE INDEX events_idempotency ON events (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- findEvent for a keyed wait: the events of a type and key, earliest first.
CREATE INDEX events_key ON events (type, key, sent_at, id) WHERE key IS NOT NULL;
-- findEvent for an unkeyed wait (events of a type since a time) and listEvents by type.
CREATE INDEX events_type ON events (type, sent_at, id);
-- listEvents, newest first.
CREATE INDEX events_sent ON events (sent_at, id);
