-- Runs by tag, for the search of the runs list (`q`). Only runs that have tags are indexed, so
-- the many that have none cost nothing more to insert; without a pending list (fastupdate) a
-- search costs the same right after a burst of tagged runs as after a vacuum.
CREATE INDEX runs_tags ON runs USING gin (tags) WITH (fastupdate = off) WHERE tags <> '{}';
