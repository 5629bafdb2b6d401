-- The last schedule slot a hook's scheduler claimed (RFC 3339, UTC). Claiming is a
-- compare-and-set on this column, so a slot runs at most once whatever the number of servers.
ALTER TABLE hooks ADD COLUMN last_scheduled_at TEXT;
