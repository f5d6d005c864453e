-- fitstore schema, migration 10: a checkpoint's scores against held-out labels.
--
-- `fitstore score LABELS.csv` compares a checkpoint's test predictions with labels the store
-- never trains on (a task's test_labels.csv, or any ID,score file): one row per checkpoint
-- and labels file (by content digest; scoring the same file again replaces the row), so
-- `fitstore checkpoints` and the report can show test RMSE beside CV RMSE.

CREATE TABLE checkpoint_score (
    id                   INTEGER PRIMARY KEY,
    checkpoint_id        INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    run_id               INTEGER NOT NULL REFERENCES run(id),
    labels_path          TEXT NOT NULL,
    labels_sha256        TEXT NOT NULL CHECK (length(labels_sha256) = 64),
    rows                 INTEGER NOT NULL CHECK (rows > 0),
    rmse                 REAL NOT NULL,
    mae                  REAL NOT NULL,
    spearman             REAL,                       -- NULL when either side is constant
    per_metric_mean_rmse REAL NOT NULL,
    constant_mean_rmse   REAL NOT NULL,
    breakdown            TEXT NOT NULL CHECK (json_valid(breakdown)),  -- per metric, per group
    created_at           TEXT NOT NULL,
    UNIQUE (checkpoint_id, labels_sha256)
);
CREATE INDEX checkpoint_score_by_run ON checkpoint_score(run_id);
