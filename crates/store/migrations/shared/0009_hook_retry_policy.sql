-- A PUSH hook's retry policy: attempts per change event (NULL: the default, 3).
ALTER TABLE hooks ADD COLUMN max_attempts TEXT;
