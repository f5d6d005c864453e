-- fitstore schema, migration 4: inspection views (documented in docs/sql.md).
-- They use plain SQL only, so the stock sqlite3 shell can read them too.

-- Every active sample with its metric, texts, label and provenance.
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
       COALESCE(s.generator, 'ingest')            AS generator,
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

-- What each run did: its status, duration and the rows it wrote.
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

-- The texts that need a vector: those of active samples and of metrics.
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

-- Embedding coverage per encoder and text role (given metric vectors count per metric).
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
