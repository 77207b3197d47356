-- Weft SQLite schema, version 3: labels, global concurrency slots, the definitions registry and
-- leadership. A released migration is never edited.

-- Labels a worker must all have to claim a step (JSON array), NULL for none: any worker.
ALTER TABLE steps ADD COLUMN labels TEXT;
-- A claimed step whose concurrency slot was full waits for this slot, queued: a step that frees
-- the slot makes one such step available at once.
ALTER TABLE steps ADD COLUMN waiting_slot TEXT;
CREATE INDEX steps_waiting_slot ON steps (waiting_slot, priority DESC, queued_at)
  WHERE waiting_slot IS NOT NULL AND status = 'queued';

-- A worker's labels (JSON array).
ALTER TABLE workers ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';

-- Global concurrency slots: a row per step attempt that took a slot. It holds the slot only
-- while that step is running at that attempt; rows of steps that moved on are ignored and
-- swept by the next acquire of the slot.
CREATE TABLE slot_holders (
  slot     TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  step_key TEXT NOT NULL,
  attempt  INTEGER NOT NULL,
  PRIMARY KEY (slot, run_id, step_key, attempt)
);
CREATE INDEX slot_holders_step ON slot_holders (run_id, step_key);

-- What workers registered about the definitions they run, for servers and the UI.
CREATE TABLE definitions (
  name          TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  graph         TEXT NOT NULL,                -- JSON
  input_schema  TEXT,                         -- JSON Schema
  code_hash     TEXT NOT NULL,
  labels        TEXT NOT NULL,                -- JSON array
  registered_at INTEGER NOT NULL
);

-- Leadership (the maintenance loop, the scheduler): one holder per name until it expires.
CREATE TABLE leaders (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
