-- fitstore schema, migration 1: the lineage spine (runs), data sets, metrics, texts, samples.
--
-- Conventions
--   * Every written row names the run that wrote it (run_id): "what is new since run N" is a
--     filter on run_id, and "as of run N" is run_id <= N AND (retired_run_id IS NULL OR
--     retired_run_id > N).
--   * Rows are retired, not deleted, when a changed input replaces them, so lineage survives.
--   * Texts are content-addressed: one row per distinct UTF-8 body (sha256).
--   * Timestamps are ISO 8601 UTC text; JSON columns are checked with json_valid().

CREATE TABLE run (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,                       -- ingest, embed, augment, train, predict, ...
    parameters   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(parameters)),
    code_version TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'succeeded', 'failed')),
    counts       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(counts)),
    message      TEXT                                 -- error text of a failed run, or a summary
);

CREATE TABLE dataset (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    source_path    TEXT,                              -- folder last ingested from
    created_run_id INTEGER NOT NULL REFERENCES run(id)
);

-- Each input file seen by ingest, by content digest: unchanged inputs are skipped quickly
-- and a user can tell which file version a row came from.
CREATE TABLE source_file (
    id         INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES dataset(id),
    role       TEXT NOT NULL CHECK (role IN ('metric_names', 'metric_embeddings',
                                             'metric_definitions', 'train', 'test')),
    path       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    records    INTEGER NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES run(id),
    UNIQUE (dataset_id, role, sha256)
);

CREATE TABLE text (
    id     INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,                      -- of the UTF-8 bytes of body
    body   TEXT NOT NULL,
    chars  INTEGER NOT NULL,                          -- Unicode scalars
    bytes  INTEGER NOT NULL,                          -- UTF-8 bytes
    run_id INTEGER NOT NULL REFERENCES run(id)
);
CREATE INDEX text_by_run ON text(run_id);

CREATE TABLE metric (
    id                 INTEGER PRIMARY KEY,
    dataset_id         INTEGER NOT NULL REFERENCES dataset(id),
    name               TEXT NOT NULL,                 -- full name, e.g. 'misuse/instruction_misuse'
    major              TEXT NOT NULL,                 -- part before the first '/'
    minor              TEXT,                          -- part after it, NULL when there is none
    position           INTEGER,                       -- index in metric_names.json (row of the .npy)
    name_text_id       INTEGER NOT NULL REFERENCES text(id),
    definition_text_id INTEGER REFERENCES text(id),
    run_id             INTEGER NOT NULL REFERENCES run(id),
    updated_run_id     INTEGER NOT NULL REFERENCES run(id),
    UNIQUE (dataset_id, name)
);

CREATE TABLE sample (
    id                INTEGER PRIMARY KEY,
    dataset_id        INTEGER NOT NULL REFERENCES dataset(id),
    key               TEXT NOT NULL,                  -- 'train:17' for real rows, 'syn:<hash>' for synthetic
    split             TEXT NOT NULL CHECK (split IN ('train', 'test')),
    origin            TEXT NOT NULL CHECK (origin IN ('real', 'synthetic')),
    position          INTEGER,                        -- 0-based record index in its file (real rows)
    source_file_id    INTEGER REFERENCES source_file(id),
    metric_id         INTEGER NOT NULL REFERENCES metric(id),
    prompt_text_id    INTEGER REFERENCES text(id),
    response_text_id  INTEGER REFERENCES text(id),    -- NULL when the record has no response
    system_text_id    INTEGER REFERENCES text(id),    -- NULL when missing or whitespace-only
    score             REAL CHECK (score IS NULL OR (score >= 0 AND score <= 10)),
    digest            BLOB NOT NULL,                  -- content digest: a changed record is a new row
    -- provenance of synthetic rows (NULL for real rows)
    generator         TEXT,
    generator_version INTEGER,
    parameters        TEXT CHECK (parameters IS NULL OR json_valid(parameters)),
    seed              INTEGER,
    run_id            INTEGER NOT NULL REFERENCES run(id),
    retired_run_id    INTEGER REFERENCES run(id),
    CHECK ((origin = 'real') = (generator IS NULL)),
    CHECK (split = 'train' OR score IS NULL)
);
CREATE UNIQUE INDEX sample_active_key ON sample(dataset_id, key) WHERE retired_run_id IS NULL;
CREATE INDEX sample_by_run ON sample(run_id);
CREATE INDEX sample_by_metric ON sample(metric_id);

-- Parents of a synthetic sample, in order (a shuffle negative has two).
CREATE TABLE sample_parent (
    sample_id INTEGER NOT NULL REFERENCES sample(id) ON DELETE CASCADE,
    ordinal   INTEGER NOT NULL,
    parent_id INTEGER NOT NULL REFERENCES sample(id),
    PRIMARY KEY (sample_id, ordinal)
) WITHOUT ROWID;
CREATE INDEX sample_parent_by_parent ON sample_parent(parent_id);
