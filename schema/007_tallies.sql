-- fitstore schema, migration 7: counts kept as rows change, and the index the audit needs.
--
-- `fitstore stats` at a million samples took seconds to count them; these counts are kept
-- by triggers instead, so it reads a few hundred rows whatever the store's size.
--   * sample_tally: active samples per data set, metric, split and origin (and how many are
--     scored, and the sum of their scores).
--   * text_use: how many active samples and metrics refer to each text; a text is in use
--     when it is above 0 (what `text_in_use` lists). A narrow table of its own: updating a
--     count in `text` would rewrite the text's whole row, body included, at every sample.
-- A sample counts while it is active (retired_run_id IS NULL); retiring or deleting it takes
-- it off.

CREATE TABLE sample_tally (
    dataset_id INTEGER NOT NULL REFERENCES dataset(id),
    metric_id  INTEGER NOT NULL REFERENCES metric(id),
    split      TEXT NOT NULL,
    origin     TEXT NOT NULL,
    samples    INTEGER NOT NULL DEFAULT 0,
    scored     INTEGER NOT NULL DEFAULT 0,
    score_sum  REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (dataset_id, metric_id, split, origin)
) WITHOUT ROWID;
CREATE INDEX sample_tally_by_metric ON sample_tally(metric_id);

INSERT INTO sample_tally (dataset_id, metric_id, split, origin, samples, scored, score_sum)
SELECT dataset_id, metric_id, split, origin, COUNT(*), COUNT(score), COALESCE(SUM(score), 0)
  FROM sample WHERE retired_run_id IS NULL GROUP BY 1, 2, 3, 4;

CREATE TABLE text_use (
    text_id INTEGER PRIMARY KEY REFERENCES text(id),
    uses    INTEGER NOT NULL
);
INSERT INTO text_use (text_id, uses)
SELECT id, uses FROM (
    SELECT t.id,
           (SELECT COUNT(*) FROM sample s WHERE s.prompt_text_id = t.id AND s.retired_run_id IS NULL)
         + (SELECT COUNT(*) FROM sample s WHERE s.response_text_id = t.id AND s.retired_run_id IS NULL)
         + (SELECT COUNT(*) FROM sample s WHERE s.system_text_id = t.id AND s.retired_run_id IS NULL)
         + (SELECT COUNT(*) FROM metric m WHERE m.name_text_id = t.id)
         + (SELECT COUNT(*) FROM metric m WHERE m.definition_text_id = t.id) AS uses
      FROM text t)
 WHERE uses > 0;

-- One UPDATE per column: a text that is a row's prompt and also its response is used twice.
-- A sample becomes active (inserted active) or stops being active (retired, or deleted while active).
CREATE TRIGGER sample_counts_insert AFTER INSERT ON sample WHEN NEW.retired_run_id IS NULL BEGIN
    INSERT INTO sample_tally (dataset_id, metric_id, split, origin, samples, scored, score_sum)
    VALUES (NEW.dataset_id, NEW.metric_id, NEW.split, NEW.origin, 1, NEW.score IS NOT NULL, COALESCE(NEW.score, 0))
    ON CONFLICT (dataset_id, metric_id, split, origin) DO UPDATE
       SET samples = samples + 1, scored = scored + excluded.scored, score_sum = score_sum + excluded.score_sum;
    INSERT INTO text_use (text_id, uses) SELECT NEW.prompt_text_id, 1 WHERE NEW.prompt_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
    INSERT INTO text_use (text_id, uses) SELECT NEW.response_text_id, 1 WHERE NEW.response_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
    INSERT INTO text_use (text_id, uses) SELECT NEW.system_text_id, 1 WHERE NEW.system_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
END;

CREATE TRIGGER sample_counts_retire AFTER UPDATE OF retired_run_id ON sample
WHEN OLD.retired_run_id IS NULL AND NEW.retired_run_id IS NOT NULL BEGIN
    UPDATE sample_tally
       SET samples = samples - 1, scored = scored - (OLD.score IS NOT NULL), score_sum = score_sum - COALESCE(OLD.score, 0)
     WHERE dataset_id = OLD.dataset_id AND metric_id = OLD.metric_id AND split = OLD.split AND origin = OLD.origin;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.prompt_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.response_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.system_text_id;
END;

CREATE TRIGGER sample_counts_delete AFTER DELETE ON sample WHEN OLD.retired_run_id IS NULL BEGIN
    UPDATE sample_tally
       SET samples = samples - 1, scored = scored - (OLD.score IS NOT NULL), score_sum = score_sum - COALESCE(OLD.score, 0)
     WHERE dataset_id = OLD.dataset_id AND metric_id = OLD.metric_id AND split = OLD.split AND origin = OLD.origin;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.prompt_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.response_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.system_text_id;
END;

-- A metric's name and definition texts are in use while the metric exists.
CREATE TRIGGER metric_uses_insert AFTER INSERT ON metric BEGIN
    INSERT INTO text_use (text_id, uses) SELECT NEW.name_text_id, 1 WHERE NEW.name_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
    INSERT INTO text_use (text_id, uses) SELECT NEW.definition_text_id, 1 WHERE NEW.definition_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
END;

CREATE TRIGGER metric_uses_update AFTER UPDATE OF name_text_id, definition_text_id ON metric BEGIN
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.name_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.definition_text_id;
    INSERT INTO text_use (text_id, uses) SELECT NEW.name_text_id, 1 WHERE NEW.name_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
    INSERT INTO text_use (text_id, uses) SELECT NEW.definition_text_id, 1 WHERE NEW.definition_text_id IS NOT NULL
        ON CONFLICT (text_id) DO UPDATE SET uses = uses + 1;
END;

CREATE TRIGGER metric_uses_delete AFTER DELETE ON metric BEGIN
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.name_text_id;
    UPDATE text_use SET uses = uses - 1 WHERE text_id = OLD.definition_text_id;
END;

-- The audit's contradiction check looks up real rows by (metric, prompt, response).
CREATE INDEX sample_by_item ON sample(metric_id, prompt_text_id, response_text_id);
