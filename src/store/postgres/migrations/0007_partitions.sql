-- Weft Postgres schema, version 7: partitions, held runs, backfills and sensors. A released
-- migration is never edited.

-- The partition key a run computes (its pipeline's partition param), NULL for none.
ALTER TABLE runs ADD COLUMN partition_key TEXT COLLATE "C";
-- A held run waits for a slot: its queued steps are available at NEVER (out of the claim
-- indexes) until a finishing run lets it in. `max_active`: at most that many unfinished runs of
-- the definition are not held. `serial`: at most one unfinished run with its trigger is not held
-- (a schedule's overlap `queue`). Deciding and letting in take a transaction-scoped advisory
-- lock on the definition, so concurrent creators and finishers count one at a time.
ALTER TABLE runs ADD COLUMN held BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN max_active INTEGER;
ALTER TABLE runs ADD COLUMN serial BOOLEAN NOT NULL DEFAULT false;

-- The latest run of each partition (latestPartitionRuns).
CREATE INDEX runs_partition ON runs (definition, partition_key, id) WHERE partition_key IS NOT NULL;
-- A backfill's unfinished runs.
CREATE INDEX runs_partition_unfinished ON runs (trigger)
  WHERE partition_key IS NOT NULL AND status IN ('queued', 'running', 'waiting');
-- Counting the active runs of a gated definition, and of a serial trigger: only gated runs
-- are in these indexes, so runs without a limit pay nothing for them.
CREATE INDEX runs_gated_active ON runs (definition)
  WHERE max_active IS NOT NULL AND NOT held AND status IN ('queued', 'running', 'waiting');
CREATE INDEX runs_serial_active ON runs (trigger)
  WHERE serial AND NOT held AND status IN ('queued', 'running', 'waiting');
-- Held runs in the order they are let in.
CREATE INDEX runs_held ON runs (definition, priority DESC, id) WHERE held;

-- Backfills: runs of a partitioned pipeline over a list of keys, `launched` of them created so
-- far. Changed by compare and set on (status, launched).
CREATE TABLE backfills (
  id             TEXT COLLATE "C" PRIMARY KEY,
  target         TEXT NOT NULL,
  partitions     JSONB NOT NULL,
  params         JSONB NOT NULL,
  max_concurrent INTEGER NOT NULL,
  status         TEXT NOT NULL,
  launched       INTEGER NOT NULL DEFAULT 0,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  finished_at    BIGINT
);
CREATE INDEX backfills_status ON backfills (status, id);

-- Sensors registered by workers, with their cursor (opaque text) and last evaluation.
CREATE TABLE sensors (
  name           TEXT COLLATE "C" PRIMARY KEY,
  target         TEXT NOT NULL,
  interval_ms    BIGINT NOT NULL,
  paused         BOOLEAN NOT NULL DEFAULT false,
  cursor         TEXT,
  evaluated_at   BIGINT,
  last_error     TEXT,
  last_requested INTEGER NOT NULL DEFAULT 0,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);
