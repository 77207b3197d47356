-- Failed runs by when they failed, for failure notifications. Partial: only failed runs are
-- indexed, so finishing a run that succeeds costs nothing more.
CREATE INDEX runs_failed ON runs (finished_at, id) WHERE status = 'failed';
