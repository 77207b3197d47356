-- Runs by tag, for the search of the runs list (`q`): one row per tag of a run, kept by
-- triggers (a run's tags never change after it is created).
CREATE TABLE run_tags (
  tag    TEXT NOT NULL,
  run_id TEXT NOT NULL,
  PRIMARY KEY (tag, run_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO run_tags (tag, run_id)
  SELECT json_each.value, runs.id FROM runs, json_each(runs.tags) WHERE runs.tags <> '[]';

CREATE TRIGGER runs_tags_insert AFTER INSERT ON runs WHEN NEW.tags <> '[]'
BEGIN
  INSERT OR IGNORE INTO run_tags (tag, run_id) SELECT value, NEW.id FROM json_each(NEW.tags);
END;

CREATE TRIGGER runs_tags_delete AFTER DELETE ON runs WHEN OLD.tags <> '[]'
BEGIN
  DELETE FROM run_tags WHERE run_id = OLD.id;
END;
