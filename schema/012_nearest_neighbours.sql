-- fitstore schema, migration 12: checkpoints of model 'knn'.
--
-- `fitstore train --model knn` fits a k-nearest-neighbour regressor (the mean score of the k
-- training rows nearest by cosine on the prompt and response vectors, within the row's
-- metric; k chosen by an inner grouped CV). Its checkpoint is like any other: config,
-- weights (the training rows' unit vectors, labels and metric groups, one flat buffer),
-- out-of-fold predictions, so it can be predicted with, scored and blended.

-- checkpoint.model gains 'knn' (a CHECK cannot be altered: the table is rebuilt, as in
-- migration 11, with foreign keys off while the migration runs, so no child row is touched).
CREATE TABLE checkpoint_new (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES run(id),
    dataset_id      INTEGER NOT NULL REFERENCES dataset(id),
    model           TEXT NOT NULL CHECK (model IN ('boosted', 'seed', 'blend', 'knn')),
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
