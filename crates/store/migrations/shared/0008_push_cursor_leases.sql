-- Which server delivers a PUSH hook's events, until when: one deliverer per hook.
ALTER TABLE push_cursors ADD COLUMN lease_owner TEXT;
ALTER TABLE push_cursors ADD COLUMN lease_until TEXT;
