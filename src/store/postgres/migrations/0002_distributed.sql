-- Weft Postgres schema, version 2: labels, global concurrency slots and the definitions
-- registry. A released migration is never edited. (Leadership uses session advisory locks and
-- work notifications LISTEN/NOTIFY: neither needs a table.)

-- Labels a worker must all have to claim a step, NULL for none: any worker.
ALTER TABLE steps ADD COLUMN labels TEXT[];
-- A claimed step whose concurrency slot was full waits for this slot, queued: a step that frees
-- the slot makes one such step available at once.
ALTER TABLE steps ADD COLUMN waiting_slot TEXT;
CREATE INDEX steps_waiting_slot ON steps (waiting_slot, priority DESC, queued_at)
  WHERE waiting_slot IS NOT NULL AND status = 'queued';

ALTER TABLE workers ADD COLUMN labels TEXT[] NOT NULL DEFAULT '{}';

-- Global concurrency slots: a row per step attempt that took a slot. It holds the slot only
-- while that step is running at that attempt; rows of steps that moved on are ignored and
-- swept by the next acquire of the slot (which holds an advisory lock on the slot).
CREATE TABLE slot_holders (
  slot     TEXT NOT NULL,
  run_id   TEXT COLLATE "C" NOT NULL,
  step_key TEXT COLLATE "C" NOT NULL,
  attempt  INTEGER NOT NULL,
  PRIMARY KEY (slot, run_id, step_key, attempt)
);
CREATE INDEX slot_holders_step ON slot_holders (run_id, step_key);

-- What workers registered about the definitions they run, for servers and the UI.
CREATE TABLE definitions (
  name          TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  graph         JSONB NOT NULL,
  input_schema  JSONB,
  code_hash     TEXT NOT NULL,
  labels        TEXT[] NOT NULL,
  registered_at BIGINT NOT NULL
);
