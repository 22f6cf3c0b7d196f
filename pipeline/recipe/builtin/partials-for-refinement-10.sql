-- partials-for-refinement-10: evaluation tasks out; at least one train or test example right, not
-- every test example right, not failing the augmentation check; deduplicated on lowercased code
-- without white space (keeping the first by success rate desc, length asc, model asc, code asc);
-- the first 10 per task by success rate desc, then md5(code).
WITH collapsed AS (
  SELECT p.*,
         regexp_replace(p.code, '\n(\s*\n)+', '\n\n', 'g') AS clean_code,
         (p.train_correct + p.test_correct)::DOUBLE / (len(p.correct_train_input) + len(p.correct_test_input)) AS success_rate
  FROM programs p
  WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dataset = p.dataset AND t.task_id = p.task_id AND t.split = 'evaluation')
    AND p.train_correct + p.test_correct >= 1
    AND NOT p.all_test_correct
    AND NOT coalesce(p.fails_augment, false)
),
deduplicated AS (
  SELECT *, row_number() OVER (
    PARTITION BY dataset, task_id, lower(regexp_replace(clean_code, '\s', '', 'g'))
    ORDER BY success_rate DESC, length(clean_code) ASC, list_min(models) ASC, clean_code ASC, row_id ASC) AS copy
  FROM collapsed
),
ranked AS (
  SELECT row_id, row_number() OVER (PARTITION BY dataset, task_id ORDER BY success_rate DESC, md5(clean_code) ASC, row_id ASC) AS rank
  FROM deduplicated
  WHERE copy = 1
)
SELECT row_id, rank FROM ranked WHERE rank <= 10
