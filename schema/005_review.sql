-- fitstore schema, migration 5: the schema review.
--
--   * One representation for digests: lowercase hex TEXT everywhere (text.sha256 and
--     sample.digest were BLOBs, source_file.sha256 and checkpoint.training_digest hex): what
--     the sqlite3 shell shows, what JSON and the command line carry, what a user can type.
--   * A sample's metric belongs to the sample's data set: a composite foreign key
--     (dataset_id, metric_id) -> metric(dataset_id, id).
--   * checkpoint.model is one of the models fitstore trains.
--   * An index on every foreign key's child column, so deleting or retiring a parent, and
--     the run_summary view's per-run counts, never scan a whole table.
--   * One name for real rows everywhere: sample_view's generator column says 'real'.
--
-- Tables are rebuilt the SQLite way (create new, copy, drop old, rename). The migrator runs
-- this with foreign keys off, so dropping `sample` cannot cascade into `sample_parent`, and
-- checks every foreign key before it commits.

DROP VIEW sample_view;
DROP VIEW run_summary;
DROP VIEW text_in_use;
DROP VIEW embedding_coverage;

-- text: sha256 as hex.
CREATE TABLE text_new (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),   -- of the UTF-8 bytes of body, lowercase hex
    body   TEXT NOT NULL,
    chars  INTEGER NOT NULL,                          -- Unicode scalars
    bytes  INTEGER NOT NULL,                          -- UTF-8 bytes
    run_id INTEGER NOT NULL REFERENCES run(id)
);
INSERT INTO text_new (id, sha256, body, chars, bytes, run_id)
SELECT id, lower(hex(sha256)), body, chars, bytes, run_id FROM text;
DROP TABLE text;
ALTER TABLE text_new RENAME TO text;
CREATE INDEX text_by_run ON text(run_id);

-- metric: (dataset_id, id) is the parent key of the composite foreign key below.
CREATE UNIQUE INDEX metric_by_dataset_and_id ON metric(dataset_id, id);
CREATE INDEX metric_by_name_text ON metric(name_text_id);
CREATE INDEX metric_by_definition_text ON metric(definition_text_id);
CREATE INDEX metric_by_run ON metric(run_id);
CREATE INDEX metric_by_updated_run ON metric(updated_run_id);

-- sample: digest as hex, metric of the same data set.
CREATE TABLE sample_new (
    id                INTEGER PRIMARY KEY,
    dataset_id        INTEGER NOT NULL REFERENCES dataset(id),
    key               TEXT NOT NULL,                  -- 'train:17' for real rows, 'syn:<hash>' for synthetic
    split             TEXT NOT NULL CHECK (split IN ('train', 'test')),
    origin            TEXT NOT NULL CHECK (origin IN ('real', 'synthetic')),
    position          INTEGER,                        -- 0-based record index in its file (real rows)
    source_file_id    INTEGER REFERENCES source_file(id),
    metric_id         INTEGER NOT NULL,
    prompt_text_id    INTEGER REFERENCES text(id),
    response_text_id  INTEGER REFERENCES text(id),    -- NULL when the record has no response
    system_text_id    INTEGER REFERENCES text(id),    -- NULL when missing or whitespace-only
    score             REAL CHECK (score IS NULL OR (score >= 0 AND score <= 10)),
    digest            TEXT NOT NULL CHECK (length(digest) = 64),  -- content digest (hex): a changed record is a new row
    -- provenance of synthetic rows (NULL for real rows)
    generator         TEXT,
    generator_version INTEGER,
    parameters        TEXT CHECK (parameters IS NULL OR json_valid(parameters)),
    seed              INTEGER,
    run_id            INTEGER NOT NULL REFERENCES run(id),
    retired_run_id    INTEGER REFERENCES run(id),
    FOREIGN KEY (dataset_id, metric_id) REFERENCES metric(dataset_id, id),
    CHECK ((origin = 'real') = (generator IS NULL)),
    CHECK (split = 'train' OR score IS NULL)
);
INSERT INTO sample_new (id, dataset_id, key, split, origin, position, source_file_id, metric_id, prompt_text_id,
                        response_text_id, system_text_id, score, digest, generator, generator_version, parameters,
                        seed, run_id, retired_run_id)
SELECT id, dataset_id, key, split, origin, position, source_file_id, metric_id, prompt_text_id,
       response_text_id, system_text_id, score,
       CASE WHEN typeof(digest) = 'blob' THEN lower(hex(digest)) ELSE digest END,
       generator, generator_version, parameters, seed, run_id, retired_run_id
  FROM sample;
DROP TABLE sample;
ALTER TABLE sample_new RENAME TO sample;
CREATE UNIQUE INDEX sample_active_key ON sample(dataset_id, key) WHERE retired_run_id IS NULL;
CREATE INDEX sample_by_dataset_split ON sample(dataset_id, split, origin);
CREATE INDEX sample_by_run ON sample(run_id);
CREATE INDEX sample_by_retired_run ON sample(retired_run_id);
CREATE INDEX sample_by_metric ON sample(metric_id);
CREATE INDEX sample_by_dataset_metric ON sample(dataset_id, metric_id);
CREATE INDEX sample_by_source_file ON sample(source_file_id);
CREATE INDEX sample_by_prompt ON sample(prompt_text_id);
CREATE INDEX sample_by_response ON sample(response_text_id);
CREATE INDEX sample_by_system ON sample(system_text_id);

-- checkpoint: a known model.
CREATE TABLE checkpoint_new (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES run(id),
    dataset_id      INTEGER NOT NULL REFERENCES dataset(id),
    model           TEXT NOT NULL CHECK (model IN ('boosted', 'seed')),
    config          TEXT NOT NULL CHECK (json_valid(config)),   -- architecture, features, profile
    encoder_id      INTEGER REFERENCES encoder(id),
    training_digest TEXT NOT NULL CHECK (length(training_digest) = 64),  -- which samples and generators it saw (hex)
    history         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(history)),  -- per epoch
    evaluation      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(evaluation)), -- CV results
    weights         BLOB NOT NULL,                    -- LZ4-compressed flat parameter buffer
    created_at      TEXT NOT NULL
);
INSERT INTO checkpoint_new SELECT * FROM checkpoint;
DROP TABLE checkpoint;
ALTER TABLE checkpoint_new RENAME TO checkpoint;
CREATE INDEX checkpoint_by_run ON checkpoint(run_id);
CREATE INDEX checkpoint_by_dataset ON checkpoint(dataset_id);
CREATE INDEX checkpoint_by_encoder ON checkpoint(encoder_id);

-- The other child columns.
CREATE INDEX dataset_by_created_run ON dataset(created_run_id);
CREATE INDEX source_file_by_run ON source_file(run_id);
CREATE INDEX encoder_by_run ON encoder(run_id);
CREATE INDEX text_embedding_by_run ON text_embedding(run_id);
CREATE INDEX metric_embedding_by_encoder ON metric_embedding(encoder_id);
CREATE INDEX metric_embedding_by_run ON metric_embedding(run_id);
CREATE INDEX prediction_by_sample ON prediction(sample_id);
CREATE INDEX prediction_by_run ON prediction(run_id);

-- The views, as in migration 4 but for the name of real rows.
CREATE VIEW sample_view AS
SELECT s.id                                       AS sample_id,
       d.name                                     AS dataset,
       s.split                                    AS split,
       s.origin                                   AS origin,
       CASE WHEN s.origin = 'real' AND s.split = 'test' THEN s.position + 1 END AS test_id,
       m.name                                     AS metric,
       p.body                                     AS prompt,
       r.body                                     AS response,
       sp.body                                    AS system_prompt,
       s.score                                    AS score,
       COALESCE(s.generator, 'real')              AS generator,
       s.generator_version                        AS generator_version,
       s.parameters                               AS parameters,
       s.seed                                     AS seed,
       (SELECT group_concat(parent_id, ',')
          FROM (SELECT parent_id FROM sample_parent
                 WHERE sample_id = s.id ORDER BY ordinal)) AS parent_ids,
       f.path                                     AS source_path,
       s.position                                 AS record,
       s.run_id                                   AS run_id
  FROM sample s
  JOIN dataset d      ON d.id = s.dataset_id
  JOIN metric m       ON m.id = s.metric_id
  LEFT JOIN text p    ON p.id = s.prompt_text_id
  LEFT JOIN text r    ON r.id = s.response_text_id
  LEFT JOIN text sp   ON sp.id = s.system_text_id
  LEFT JOIN source_file f ON f.id = s.source_file_id
 WHERE s.retired_run_id IS NULL;

CREATE VIEW run_summary AS
SELECT r.id                                                   AS run_id,
       r.kind                                                 AS kind,
       r.status                                               AS status,
       r.started_at                                           AS started_at,
       r.ended_at                                             AS ended_at,
       ROUND((julianday(r.ended_at) - julianday(r.started_at)) * 86400.0, 3) AS seconds,
       (SELECT COUNT(*) FROM sample s WHERE s.run_id = r.id)            AS samples_added,
       (SELECT COUNT(*) FROM sample s WHERE s.retired_run_id = r.id)    AS samples_retired,
       (SELECT COUNT(*) FROM text t WHERE t.run_id = r.id)              AS texts_added,
       (SELECT COUNT(*) FROM metric m WHERE m.run_id = r.id)            AS metrics_added,
       (SELECT COUNT(*) FROM text_embedding e WHERE e.run_id = r.id)
     + (SELECT COUNT(*) FROM metric_embedding e WHERE e.run_id = r.id)  AS vectors_added,
       r.counts                                               AS counts,
       r.parameters                                           AS parameters,
       r.code_version                                         AS code_version
  FROM run r;

CREATE VIEW text_in_use AS
SELECT prompt_text_id AS text_id, 'prompt' AS role FROM sample
 WHERE retired_run_id IS NULL AND prompt_text_id IS NOT NULL
UNION
SELECT response_text_id, 'response' FROM sample
 WHERE retired_run_id IS NULL AND response_text_id IS NOT NULL
UNION
SELECT system_text_id, 'system_prompt' FROM sample
 WHERE retired_run_id IS NULL AND system_text_id IS NOT NULL
UNION
SELECT name_text_id, 'metric_name' FROM metric
UNION
SELECT definition_text_id, 'metric_definition' FROM metric WHERE definition_text_id IS NOT NULL;

CREATE VIEW embedding_coverage AS
SELECT e.key AS encoder, e.kind AS kind, e.dims AS dims, u.role AS role,
       COUNT(DISTINCT u.text_id) AS needed,
       COUNT(DISTINCT te.text_id) AS embedded,
       ROUND(100.0 * COUNT(DISTINCT te.text_id) / COUNT(DISTINCT u.text_id), 2) AS percent
  FROM encoder e
  JOIN text_in_use u
  LEFT JOIN text_embedding te ON te.text_id = u.text_id AND te.encoder_id = e.id
 WHERE e.kind = 'model'
 GROUP BY e.id, u.role
UNION ALL
SELECT e.key, e.kind, e.dims, 'metric',
       (SELECT COUNT(*) FROM metric m2 WHERE m2.dataset_id = m.dataset_id AND m2.position IS NOT NULL),
       COUNT(*),
       ROUND(100.0 * COUNT(*) / (SELECT COUNT(*) FROM metric m2
                                  WHERE m2.dataset_id = m.dataset_id AND m2.position IS NOT NULL), 2)
  FROM encoder e
  JOIN metric_embedding me ON me.encoder_id = e.id
  JOIN metric m ON m.id = me.metric_id
 WHERE e.kind = 'given'
 GROUP BY e.id, m.dataset_id;
