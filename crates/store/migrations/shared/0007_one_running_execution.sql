-- One running execution per hook, whatever the number of servers or concurrent requests.
CREATE UNIQUE INDEX executions_one_running ON executions(hook_id) WHERE status = 'running';
CREATE INDEX executions_running ON executions(status) WHERE status = 'running';
