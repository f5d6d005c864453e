-- fitstore schema, migration 8: which process a run belongs to.
--
-- A run left 'running' by a process that was killed or crashed must not look live, and a
-- live one must not be marked failed by a second process. So a run records its process:
-- the host, the pid, and the process's start time (boot id and start tick from /proc), which
-- together tell a live process from a later one that reuses the pid.

ALTER TABLE run ADD COLUMN host TEXT;
ALTER TABLE run ADD COLUMN pid INTEGER;
ALTER TABLE run ADD COLUMN process_start TEXT;
CREATE INDEX run_by_status ON run(status);
