"""The users' partial-100 rules, written again in plain Python from their description, to check
arcforge's built-in recipe against: reads a --format programs Parquet, prints the chosen row_ids.

usage: partial_100.py TABLE.parquet ARC_DATA_ROOT  ->  ["row_id", ...] (JSON)
"""
import json
import os
import re
import sys

import pyarrow.parquet as pq

table, root = sys.argv[1], sys.argv[2]
rows = pq.read_table(table).to_pylist()


def evaluation(dataset, task):
    # load-tasks looks in training first: a task is an evaluation task when only that folder holds it
    has = lambda folder: os.path.exists(os.path.join(root, dataset, folder, task + ".json"))
    return has("evaluation") and not has("training")


def side(grids):
    return max([len(g) for g in grids] + [max([len(r) for r in g] + [0]) for g in grids] + [0])


by_task = {}
for r in rows:
    if evaluation(r["dataset"], r["task_id"]):
        continue
    predicted = r["predicted_train_output"] + r["predicted_test_output"]
    if max(len(g) for g in predicted) > 40 or max(max(len(x) for x in g) for g in predicted) > 40:
        continue
    right = sum(r["correct_train_input"]) + sum(r["correct_test_input"])
    if right < 1:
        continue
    code = re.sub(r"\n(\s*\n)+", "\n\n", r["code"])
    rate = right / (len(r["correct_train_input"]) + len(r["correct_test_input"]))
    by_task.setdefault((r["dataset"], r["task_id"]), []).append({"row_id": r["row_id"], "code": code, "rate": rate, "length": len(code), "model": min(r["models"])})

chosen = []
for programs in by_task.values():
    best = sorted(programs, key=lambda p: (-p["rate"], p["length"], p["code"]))[0]["length"]
    order = sorted((p for p in programs if p["length"] <= 2.5 * best), key=lambda p: (-p["rate"], p["length"], p["model"], p["code"], p["row_id"]))
    seen, kept = set(), []
    for p in order:
        key = re.sub(r"\s", "", p["code"]).lower()
        if key not in seen:
            seen.add(key)
            kept.append(p["row_id"])
    chosen.extend(kept[:100])
print(json.dumps(sorted(chosen)))
