-- Weft Postgres schema, version 8: the lease reaper's index no longer serves lookups by key.
-- A released migration is never edited.
--
-- Its predicate was `status = 'running'` alone, which every statement that finds a held step by
-- its key also implies. Where the statistics count few running steps (they usually do: steps
-- run briefly), the planner took this index for those lookups and read every running step,
-- and every dead entry a busy queue leaves behind, to find one row. Its predicate now also asks
-- for a lease end, which only the reaper's query states: lookups by key use the primary key.
DROP INDEX steps_leases;
CREATE INDEX steps_leases ON steps (lease_expires_at)
  WHERE status = 'running' AND lease_expires_at IS NOT NULL;
