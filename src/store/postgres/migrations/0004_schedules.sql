-- Weft Postgres schema, version 4: schedules. A released migration is never edited.

-- Schedules (cron or interval triggers), by name (listed bytewise, as SQLite sorts them).
-- `cursor` is the latest tick handled, NULL before the first; schedulers move it by compare and
-- set (`cursor IS NOT DISTINCT FROM` what they read).
CREATE TABLE schedules (
  name       TEXT COLLATE "C" PRIMARY KEY,
  target     TEXT NOT NULL,
  spec       JSONB NOT NULL,
  source     TEXT NOT NULL,
  paused     BOOLEAN NOT NULL DEFAULT false,
  cursor     BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
