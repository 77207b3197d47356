-- Named positions of the elected maintenance loop's scans (the events event triggers have
-- seen): a new leader goes on from where the last one stopped.
CREATE TABLE cursors (
  name       TEXT COLLATE "C" PRIMARY KEY,
  at         BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
