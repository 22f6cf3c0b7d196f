-- partial-max-60: evaluation tasks out; at least one train example right; not failing the
-- augmentation check (when it ran); the first 60 per task by test examples right desc, train
-- examples right desc, row id desc.
WITH kept AS (
  SELECT p.*
  FROM programs p
  WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dataset = p.dataset AND t.task_id = p.task_id AND t.split = 'evaluation')
    AND p.train_correct >= 1
    AND NOT coalesce(p.fails_augment, false)
),
ranked AS (
  SELECT row_id, row_number() OVER (PARTITION BY dataset, task_id ORDER BY test_correct DESC, train_correct DESC, row_id DESC) AS rank
  FROM kept
)
SELECT row_id, rank FROM ranked WHERE rank <= 60
