-- fitstore schema, migration 11: out-of-fold predictions, and blends of checkpoints.
--
-- A checkpoint's cross-validation predicts every real training row once, from a model that
-- did not see it. cv_prediction keeps those predictions (with the fold), so that a blend of
-- checkpoints can fit its weights on them and be cross-validated honestly without training
-- anything again. A blend is a checkpoint of model 'blend' whose members (other checkpoints
-- of the data set) are listed in blend_member with their weights; its predictions are the
-- weighted sum of theirs.

-- checkpoint.model gains 'blend' (a CHECK cannot be altered: the table is rebuilt, with
-- foreign keys off while the migration runs, so no child row is touched).
CREATE TABLE checkpoint_new (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES run(id),
    dataset_id      INTEGER NOT NULL REFERENCES dataset(id),
    model           TEXT NOT NULL CHECK (model IN ('boosted', 'seed', 'blend')),
    config          TEXT NOT NULL CHECK (json_valid(config)),
    encoder_id      INTEGER REFERENCES encoder(id),
    training_digest TEXT NOT NULL CHECK (length(training_digest) = 64),
    history         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(history)),
    evaluation      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(evaluation)),
    weights         BLOB NOT NULL,
    created_at      TEXT NOT NULL
);
INSERT INTO checkpoint_new SELECT * FROM checkpoint;
DROP TABLE checkpoint;
ALTER TABLE checkpoint_new RENAME TO checkpoint;
CREATE INDEX checkpoint_by_run ON checkpoint(run_id);
CREATE INDEX checkpoint_by_dataset ON checkpoint(dataset_id);
CREATE INDEX checkpoint_by_encoder ON checkpoint(encoder_id);

CREATE TABLE cv_prediction (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    sample_id     INTEGER NOT NULL REFERENCES sample(id),
    fold          INTEGER NOT NULL CHECK (fold >= 0),
    score         REAL NOT NULL,
    PRIMARY KEY (checkpoint_id, sample_id)
) WITHOUT ROWID;
CREATE INDEX cv_prediction_by_sample ON cv_prediction(sample_id);

CREATE TABLE blend_member (
    blend_id  INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position >= 0),
    member_id INTEGER NOT NULL REFERENCES checkpoint(id),
    weight    REAL NOT NULL CHECK (weight >= 0),
    PRIMARY KEY (blend_id, position),
    UNIQUE (blend_id, member_id)
) WITHOUT ROWID;
CREATE INDEX blend_member_by_member ON blend_member(member_id);
