-- fitstore schema, migration 15: a comparison may be about the extra columns' place in the
-- trees' feature sample.
--
-- The default boosted trees offer the extra columns (lengths, cosines) to every tree and
-- sample only the vector dimensions; `run` weighs that against sampling every column alike by
-- CV on the same folds (docs/trainer.md), a comparison of kind 'extras_in_every_tree'. The
-- table is rebuilt as in migration 14: ids and the AUTOINCREMENT counter are kept.

CREATE TABLE comparison_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id         INTEGER NOT NULL REFERENCES dataset(id),
    run_id             INTEGER NOT NULL REFERENCES run(id),
    kind               TEXT NOT NULL CHECK (kind IN ('system_prompt', 'bag', 'knn_blend', 'tune', 'blend', 'learner', 'extras_in_every_tree')),
    rule               TEXT NOT NULL,              -- the rule that decided, in words
    kept_position      INTEGER NOT NULL,           -- the candidate kept (0: the simplest)
    mean_gain          REAL,                       -- mean per-fold RMSE gain of the kept one over the simplest
    standard_error     REAL,                       -- its standard error across folds
    created_at         TEXT NOT NULL
);
INSERT INTO comparison_new (id, dataset_id, run_id, kind, rule, kept_position, mean_gain, standard_error, created_at)
SELECT id, dataset_id, run_id, kind, rule, kept_position, mean_gain, standard_error, created_at FROM comparison;
-- The counter goes with the table: the rename below carries this row's name along.
DELETE FROM sqlite_sequence WHERE name = 'comparison_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'comparison_new', seq FROM sqlite_sequence WHERE name = 'comparison';
DROP TABLE comparison;
ALTER TABLE comparison_new RENAME TO comparison;
CREATE INDEX comparison_by_dataset ON comparison(dataset_id, id);
CREATE INDEX comparison_by_run ON comparison(run_id);
