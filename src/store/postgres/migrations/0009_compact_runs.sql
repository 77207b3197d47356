-- Weft Postgres schema, version 9: a run of one plain step keeps that step in its own row.
-- A released migration is never edited.
--
-- A task enqueued (a run of one node, no dependencies, no labels, no gate, no parent) is most of
-- what a busy queue holds. Its step's state lives in these columns of the run instead of a row of
-- `steps`: enqueueing writes one row, claiming and finishing update one. `step_key` is set
-- exactly while the run is compact; the run's status is then its step's (queued, running,
-- succeeded). Anything else that happens to the step (a failure, a retry, a cancellation, a
-- lease taken back, a concurrency slot) first moves it to a row of `steps` and clears these
-- columns ("materializes" it, under the run's lock), then takes the general path.
ALTER TABLE runs
  ADD COLUMN step_key TEXT COLLATE "C",
  ADD COLUMN step_node TEXT,
  ADD COLUMN step_attempt INTEGER,
  ADD COLUMN step_output TEXT,
  ADD COLUMN lease_owner TEXT,
  ADD COLUMN lease_expires_at BIGINT;

-- Claiming compact runs, in claim order (a compact run is claimable from its creation).
CREATE INDEX runs_claim ON runs (priority DESC, created_at, id)
  WHERE step_key IS NOT NULL AND status = 'queued';
-- The lease reaper, for compact runs.
CREATE INDEX runs_leases ON runs (lease_expires_at)
  WHERE step_key IS NOT NULL AND status = 'running' AND lease_expires_at IS NOT NULL;
