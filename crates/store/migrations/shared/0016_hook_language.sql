-- A hook's language: javascript, or typescript (its types blanked before it runs).
ALTER TABLE hooks ADD COLUMN language TEXT NOT NULL DEFAULT 'javascript';
