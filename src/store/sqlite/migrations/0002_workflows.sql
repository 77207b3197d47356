-- Weft SQLite schema, version 2: durable workflows. A released migration is never edited.
--
-- A workflow run has one `$run` step (kind 'run') and its journal entries as steps (kinds
-- 'step', 'sleep', 'event', 'child', ordered by seq). A parked run's `$run` step is queued with
-- available_at at its wake-up time, or at NEVER = 9007199254740991 (2^53 - 1, the largest
-- integer a JS number holds exactly) when only a wake-up resumes it. Journal entries are never
-- claimed: their available_at is NEVER too. The number is repeated below and in
-- sqlite-statements.ts (NEVER), which must agree.

ALTER TABLE steps ADD COLUMN kind TEXT NOT NULL DEFAULT 'node';
ALTER TABLE steps ADD COLUMN seq INTEGER;

-- Claims walk these indexes in claim order, reading each row's available_at. Without the bound,
-- every run parked until an event or a child would sit in them and be walked by every claim
-- that doesn't fill its limit early; with it, a parked run enters the index only when something
-- wakes it (available_at = now). Claim queries must repeat `available_at < 9007199254740991`.
DROP INDEX steps_claim;
DROP INDEX steps_claim_run;
CREATE INDEX steps_claim ON steps (priority DESC, queued_at, key)
  WHERE status = 'queued' AND available_at < 9007199254740991;
CREATE INDEX steps_claim_run ON steps (run_id, priority DESC, queued_at, key)
  WHERE status = 'queued' AND available_at < 9007199254740991;

-- What a parked run waits for (JSON WaitInfo), while it is `waiting`. For an event wait, its
-- event type and key are copied out so that sendEvent finds the waits of an event by index.
ALTER TABLE runs ADD COLUMN waiting_for TEXT;
ALTER TABLE runs ADD COLUMN wait_event TEXT;
ALTER TABLE runs ADD COLUMN wait_key TEXT;
CREATE INDEX runs_wait_event ON runs (wait_event, wait_key) WHERE wait_event IS NOT NULL;
-- Child runs of a run (listChildRuns, cancelRun's cascade).
CREATE INDEX runs_parent ON runs (parent_run_id, id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE events (
  id              TEXT PRIMARY KEY,
  type            TEXT NOT NULL,
  key             TEXT,
  payload         TEXT NOT NULL,              -- codec-encoded
  idempotency_key TEXT,
  sent_at         INTEGER NOT NULL
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
