-- Issue 10: the PULL queue lives in the database. A manual or due run is a `queued`
-- execution any server may claim (compare-and-set to `running`); a hook has at most one
-- execution queued or running, whatever the number of servers or concurrent requests.
ALTER TABLE executions DROP CONSTRAINT executions_status_check;
ALTER TABLE executions ADD CONSTRAINT executions_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'skipped'));
DROP INDEX executions_one_running;
CREATE UNIQUE INDEX executions_one_unfinished ON executions(hook_id) WHERE status = 'queued' OR status = 'running';
CREATE INDEX executions_queued ON executions(started_at) WHERE status = 'queued';
