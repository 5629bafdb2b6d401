-- Which server runs an execution, and until when it is known alive (renewed as it saves).
-- A running execution whose lease has passed was cut off: it is failed as interrupted.
ALTER TABLE executions ADD COLUMN node_id TEXT;
ALTER TABLE executions ADD COLUMN lease_until TEXT;
