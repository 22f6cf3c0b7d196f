-- partial-100: evaluation tasks out; predictions over 40x40 out; at least one train or test example
-- right; at most 2.5x the task's shortest best length; deduplicated on lowercased code without white
-- space; the first 100 per task by success rate desc, length asc, model asc, code asc.
WITH collapsed AS (
  SELECT p.*,
         regexp_replace(p.code, '\n(\s*\n)+', '\n\n', 'g') AS clean_code,
         (p.train_correct + p.test_correct)::DOUBLE / (len(p.correct_train_input) + len(p.correct_test_input)) AS success_rate
  FROM programs p
  WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dataset = p.dataset AND t.task_id = p.task_id AND t.split = 'evaluation')
    AND p.max_predicted_height <= 40 AND p.max_predicted_width <= 40
    AND p.train_correct + p.test_correct >= 1
),
measured AS (
  SELECT *, length(clean_code) AS clean_length, list_min(models) AS first_model FROM collapsed
),
shortest AS (
  SELECT *, first_value(clean_length) OVER (PARTITION BY dataset, task_id ORDER BY success_rate DESC, clean_length ASC, clean_code ASC) AS shortest_best
  FROM measured
),
deduplicated AS (
  SELECT *, row_number() OVER (
    PARTITION BY dataset, task_id, lower(regexp_replace(clean_code, '\s', '', 'g'))
    ORDER BY success_rate DESC, clean_length ASC, first_model ASC, clean_code ASC, row_id ASC) AS copy
  FROM shortest
  WHERE clean_length <= 2.5 * shortest_best
),
ranked AS (
  SELECT row_id, row_number() OVER (
    PARTITION BY dataset, task_id
    ORDER BY success_rate DESC, clean_length ASC, first_model ASC, clean_code ASC, row_id ASC) AS rank
  FROM deduplicated
  WHERE copy = 1
)
SELECT row_id, rank FROM ranked WHERE rank <= 100
