-- Weft SQLite schema, version 8: partitions, held runs, backfills and sensors. A released
-- migration is never edited.

-- The partition key a run computes (its pipeline's partition param), NULL for none.
ALTER TABLE runs ADD COLUMN partition_key TEXT;
-- A held run waits for a slot: its queued steps are available at NEVER (out of the claim
-- indexes) until a finishing run lets it in. `max_active`: at most that many unfinished runs of
-- the definition are not held. `serial`: at most one unfinished run with its trigger is not held
-- (a schedule's overlap `queue`).
ALTER TABLE runs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN max_active INTEGER;
ALTER TABLE runs ADD COLUMN serial INTEGER NOT NULL DEFAULT 0;

-- The latest run of each partition (latestPartitionRuns).
CREATE INDEX runs_partition ON runs (definition, partition_key, id) WHERE partition_key IS NOT NULL;
-- A backfill's unfinished runs. Queries must repeat this exact IN list for SQLite to use it.
CREATE INDEX runs_partition_unfinished ON runs (trigger)
  WHERE partition_key IS NOT NULL AND status IN ('queued', 'running', 'waiting');
-- Counting the active runs of a gated definition, and of a serial trigger: only gated runs
-- are in these indexes, so runs without a limit pay nothing for them.
CREATE INDEX runs_gated_active ON runs (definition)
  WHERE max_active IS NOT NULL AND held = 0 AND status IN ('queued', 'running', 'waiting');
CREATE INDEX runs_serial_active ON runs (trigger)
  WHERE serial = 1 AND held = 0 AND status IN ('queued', 'running', 'waiting');
-- Held runs in the order they are let in.
CREATE INDEX runs_held ON runs (definition, priority DESC, id) WHERE held = 1;

-- Backfills: runs of a partitioned pipeline over a list of keys, `launched` of them created so
-- far. Changed by compare and set on (status, launched).
CREATE TABLE backfills (
  id             TEXT PRIMARY KEY,
  target         TEXT NOT NULL,
  partitions     TEXT NOT NULL,               -- JSON array of keys, in launch order
  params         TEXT NOT NULL,               -- JSON
  max_concurrent INTEGER NOT NULL,
  status         TEXT NOT NULL,               -- running | paused | cancelled | succeeded | failed
  launched       INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  finished_at    INTEGER
);
CREATE INDEX backfills_status ON backfills (status, id);

-- Sensors registered by workers, with their cursor (opaque text) and last evaluation.
CREATE TABLE sensors (
  name           TEXT PRIMARY KEY,
  target         TEXT NOT NULL,
  interval_ms    INTEGER NOT NULL,
  paused         INTEGER NOT NULL DEFAULT 0,
  cursor         TEXT,
  evaluated_at   INTEGER,
  last_error     TEXT,
  last_requested INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
