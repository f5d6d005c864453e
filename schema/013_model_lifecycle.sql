-- fitstore schema, migration 13: the model lifecycle.
--
-- A data set has a chosen checkpoint: the one `predict`, `score` and `report` use unless told
-- otherwise. `run` chooses its winner, `fitstore promote N` another; `tune` and `blend` only
-- with --promote. Every choice is a row of `chosen_checkpoint` (who chose what, when, from
-- which run, on which comparison): the current choice is a data set's newest row.
--
-- A choice between variants (the system prompt block, the bag of fold models, the blend with
-- nearest neighbours, a tune trial, a blend) is one `comparison`: its candidates with their
-- fold-by-fold CV on the same folds, the rule that decided and the decision, written in the
-- same transaction as the choice it makes. Nothing is deleted to make a choice: the variants
-- that lost stay as checkpoints, marked by the comparison they lost.
--
-- Ids are never reused: checkpoints and scores get AUTOINCREMENT (a rebuilt table, with
-- foreign keys off while the migration runs, as in migrations 11 and 12), and runs, the
-- ledger, can no longer be deleted at all.

CREATE TABLE checkpoint_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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

CREATE TABLE checkpoint_score_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    checkpoint_id        INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    run_id               INTEGER NOT NULL REFERENCES run(id),
    labels_path          TEXT NOT NULL,
    labels_sha256        TEXT NOT NULL CHECK (length(labels_sha256) = 64),
    rows                 INTEGER NOT NULL CHECK (rows > 0),
    rmse                 REAL NOT NULL,
    mae                  REAL NOT NULL,
    spearman             REAL,
    per_metric_mean_rmse REAL NOT NULL,
    constant_mean_rmse   REAL NOT NULL,
    breakdown            TEXT NOT NULL CHECK (json_valid(breakdown)),
    created_at           TEXT NOT NULL,
    UNIQUE (checkpoint_id, labels_sha256)
);
INSERT INTO checkpoint_score_new SELECT * FROM checkpoint_score;
DROP TABLE checkpoint_score;
ALTER TABLE checkpoint_score_new RENAME TO checkpoint_score;
CREATE INDEX checkpoint_score_by_run ON checkpoint_score(run_id);

CREATE TRIGGER run_is_kept BEFORE DELETE ON run
BEGIN
    SELECT RAISE(ABORT, 'runs are the store''s ledger: they are never deleted');
END;

CREATE TABLE comparison (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id         INTEGER NOT NULL REFERENCES dataset(id),
    run_id             INTEGER NOT NULL REFERENCES run(id),
    kind               TEXT NOT NULL CHECK (kind IN ('system_prompt', 'bag', 'knn_blend', 'tune', 'blend')),
    rule               TEXT NOT NULL,              -- the rule that decided, in words
    kept_position      INTEGER NOT NULL,           -- the candidate kept (0: the simplest)
    mean_gain          REAL,                       -- mean per-fold RMSE gain of the kept one over the simplest
    standard_error     REAL,                       -- its standard error across folds
    created_at         TEXT NOT NULL
);
CREATE INDEX comparison_by_dataset ON comparison(dataset_id, id);
CREATE INDEX comparison_by_run ON comparison(run_id);

CREATE TABLE comparison_candidate (
    comparison_id INTEGER NOT NULL REFERENCES comparison(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,                -- 0: the simplest variant
    checkpoint_id INTEGER REFERENCES checkpoint(id) ON DELETE SET NULL,
    label         TEXT NOT NULL,
    cv_rmse       REAL NOT NULL,
    fold_rmse     TEXT NOT NULL CHECK (json_valid(fold_rmse)),  -- per fold, on the comparison's folds
    PRIMARY KEY (comparison_id, position)
);
CREATE INDEX comparison_candidate_by_checkpoint ON comparison_candidate(checkpoint_id);

CREATE TABLE chosen_checkpoint (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id    INTEGER NOT NULL REFERENCES dataset(id),
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id),
    run_id        INTEGER REFERENCES run(id),      -- the run that chose it (NULL: this migration)
    comparison_id INTEGER REFERENCES comparison(id),
    reason        TEXT NOT NULL,
    chosen_at     TEXT NOT NULL
);
CREATE INDEX chosen_checkpoint_by_dataset ON chosen_checkpoint(dataset_id, id);
CREATE INDEX chosen_checkpoint_by_checkpoint ON chosen_checkpoint(checkpoint_id);
CREATE INDEX chosen_checkpoint_by_comparison ON chosen_checkpoint(comparison_id);
CREATE INDEX chosen_checkpoint_by_run ON chosen_checkpoint(run_id);

-- Until now predict took the newest checkpoint: that is each data set's first choice.
INSERT INTO chosen_checkpoint (dataset_id, checkpoint_id, run_id, comparison_id, reason, chosen_at)
SELECT dataset_id, MAX(id), NULL, NULL,
       'the newest checkpoint when checkpoints began to be chosen (what predict took until then)',
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  FROM checkpoint GROUP BY dataset_id;
