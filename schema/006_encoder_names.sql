-- fitstore schema, migration 6: encoders have names and sources.
--
-- A store can hold the vectors of several encoders. Each has a name the user types
-- (`--encoder NAME`) and a source: 'builtin' (the multilingual-e5-small fitstore ships),
-- 'folder' (a Hugging Face model folder registered with `fitstore encoders add`),
-- 'imported' (vectors computed elsewhere and brought in with `fitstore vectors import`), or
-- 'given' (a data set's own metric vectors). The key stays the identity of the vectors.

ALTER TABLE encoder ADD COLUMN name TEXT;
ALTER TABLE encoder ADD COLUMN source TEXT NOT NULL DEFAULT 'builtin'
    CHECK (source IN ('builtin', 'folder', 'imported', 'given'));
UPDATE encoder SET source = 'given' WHERE kind = 'given';
CREATE UNIQUE INDEX encoder_by_name ON encoder(name) WHERE name IS NOT NULL;
