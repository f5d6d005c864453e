-- fitstore schema, migration 2: encoders and vectors.
--
-- Vectors live apart from samples so that scans of samples never page through blobs.
-- Every vector column holds a self-describing fitstore vector blob (see docs/storage.md);
-- the SQL functions vec_dims, vec_dtype, vec_norm, vec_cosine and vec_json read them.

CREATE TABLE encoder (
    id     INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE,    -- identity: 'given:<dataset>:<npy sha256>' or model sha256 + prefix + length policy
    kind   TEXT NOT NULL CHECK (kind IN ('given', 'model')),
    dims   INTEGER NOT NULL CHECK (dims > 0),
    config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    run_id INTEGER NOT NULL REFERENCES run(id)
);

-- Vectors of texts (prompts, responses, system prompts, metric names and definitions).
CREATE TABLE text_embedding (
    id         INTEGER PRIMARY KEY,
    text_id    INTEGER NOT NULL REFERENCES text(id),
    encoder_id INTEGER NOT NULL REFERENCES encoder(id),
    vector     BLOB NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES run(id),
    UNIQUE (text_id, encoder_id)
);
CREATE INDEX text_embedding_by_encoder ON text_embedding(encoder_id);

-- Vectors given per metric by a data set (DA5401's metric_name_embeddings.npy), which no
-- text of ours can reproduce.
CREATE TABLE metric_embedding (
    id         INTEGER PRIMARY KEY,
    metric_id  INTEGER NOT NULL REFERENCES metric(id),
    encoder_id INTEGER NOT NULL REFERENCES encoder(id),
    vector     BLOB NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES run(id),
    UNIQUE (metric_id, encoder_id)
);
