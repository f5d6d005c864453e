-- fitstore schema, migration 3: model checkpoints and predictions.

CREATE TABLE checkpoint (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES run(id),
    dataset_id      INTEGER NOT NULL REFERENCES dataset(id),
    model           TEXT NOT NULL,                    -- 'seed', 'default', ...
    config          TEXT NOT NULL CHECK (json_valid(config)),   -- architecture, features, profile
    encoder_id      INTEGER REFERENCES encoder(id),
    training_digest TEXT NOT NULL,                    -- which samples and generators it saw
    history         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(history)),  -- per epoch
    evaluation      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(evaluation)), -- CV results
    weights         BLOB NOT NULL,                    -- LZ4-compressed flat parameter buffer
    created_at      TEXT NOT NULL
);

CREATE TABLE prediction (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    sample_id     INTEGER NOT NULL REFERENCES sample(id),
    score         REAL NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES run(id),
    PRIMARY KEY (checkpoint_id, sample_id)
) WITHOUT ROWID;
