-- Weft SQLite schema, version 5: schedules. A released migration is never edited.

-- Schedules (cron or interval triggers), by name. `spec` is JSON written with its keys sorted,
-- so that an unchanged spec registered again compares equal as text. `cursor` is the latest
-- tick handled, NULL before the first; schedulers move it by compare and set.
CREATE TABLE schedules (
  name       TEXT PRIMARY KEY,
  target     TEXT NOT NULL,
  spec       TEXT NOT NULL,                -- JSON, canonical (sorted keys)
  source     TEXT NOT NULL,                -- code | api
  paused     INTEGER NOT NULL DEFAULT 0,   -- 0 | 1
  cursor     INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
