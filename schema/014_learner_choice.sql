-- fitstore schema, migration 14: a comparison may be between two learners' settings.
--
-- `run` now chooses the boosted trees' settings per data set (the default, or the leaf-wise
-- wide settings LightGBM uses) by nested CV on the same folds, as it chooses the system prompt
-- block and the bag; that choice is a comparison of kind 'learner'. The table is rebuilt the
-- SQLite way (the migrator runs this with foreign keys off and checks them before the commit);
-- ids and the AUTOINCREMENT counter are kept, so no comparison id is ever reused.

CREATE TABLE comparison_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id         INTEGER NOT NULL REFERENCES dataset(id),
    run_id             INTEGER NOT NULL REFERENCES run(id),
    kind               TEXT NOT NULL CHECK (kind IN ('system_prompt', 'bag', 'knn_blend', 'tune', 'blend', 'learner')),
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
