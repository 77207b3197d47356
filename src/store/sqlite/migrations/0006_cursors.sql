-- Named positions of the elected maintenance loop's scans (the events event triggers have
-- seen): a new leader goes on from where the last one stopped.
CREATE TABLE cursors (
  name       TEXT PRIMARY KEY,
  at         INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
