#!/usr/bin/env python3
"""Issue 14's last lever, measured before it is built: does a k-nearest-neighbour target
column (out-of-fold inside each fit's own rows) help a tree model as strong as fitstore's
default? learner_probe.py measured it with sklearn's HistGradientBoosting on the bare vectors
(a weaker stand-in: CV 2.008 on indic_mt where the default has 1.853); this probe uses
LightGBM with the default's settings (400 rounds, shrinkage 0.03, 15 leaves, 30% features
and 80% rows per tree, 20 rows per leaf) on the checkpoint's own features (extras and the
system prompt block when the checkpoint has them), the checkpoint's folds, and the same kNN
(cosine on the prompt and response vectors within the metric, k chosen per fold by the inner
grouped CV of learner_probe.py).

    tools/knn_feature_probe.py STORE CHECKPOINT --fitstore BIN --out RESULT.json [--task-dir DIR]
"""
import argparse
import json
import os
import sys

import lightgbm
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from learner_probe import inner_folds, knn_predict, load_checkpoint, rmse, test_labels, unit_blocks  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store")
    p.add_argument("checkpoint", type=int)
    p.add_argument("--fitstore", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--task-dir")
    a = p.parse_args()
    c = load_checkpoint(a.store, a.checkpoint, a.fitstore, checkpoint_features=True)
    y, fold, default_oof, items = c.y, c.fold, c.default_oof, c.items
    Xtr, Xte, mtr, mte = c.Xtr, c.Xte, c.mtr, c.mte
    Vtr, Vte = unit_blocks(Xtr, c.manifest), unit_blocks(Xte, c.manifest)
    params = dict(n_estimators=400, learning_rate=0.03, num_leaves=15, min_child_samples=20, colsample_bytree=0.3,
                  subsample=0.8, subsample_freq=1, max_bin=255, reg_lambda=0.0, random_state=5401, n_jobs=2, verbose=-1)
    ks = [5, 10, 20, 50, 100]

    def knn_column(train, queries_v, queries_m, k):
        return knn_predict(Vtr[train], y[train], mtr[train], queries_v, queries_m, k)

    def with_column(train, held_v, held_m):
        """The kNN column: out of fold inside `train` (5 grouped parts), from all of `train` for the held rows."""
        inner = inner_folds(items, train, 4, 17)
        k = min(ks, key=lambda kk: sum(np.sum((knn_column(train[inner != j], Vtr[train[inner == j]], mtr[train[inner == j]], kk)
                                               - y[train[inner == j]]) ** 2) for j in range(4)))
        parts = inner_folds(items, train, 5, 31)
        col = np.zeros(len(train))
        for j in range(5):
            col[parts == j] = knn_column(train[parts != j], Vtr[train[parts == j]], mtr[train[parts == j]], k)
        return k, col, knn_column(train, held_v, held_m, k)

    plain, withknn, chosen = np.zeros(len(y)), np.zeros(len(y)), []
    for f in np.unique(fold):
        train, held = np.where(fold != f)[0], np.where(fold == f)[0]
        k, col, held_col = with_column(train, Vtr[held], mtr[held])
        chosen.append(k)
        plain[held] = np.clip(lightgbm.LGBMRegressor(**params).fit(Xtr[train], y[train]).predict(Xtr[held]), 0, 10)
        withknn[held] = np.clip(lightgbm.LGBMRegressor(**params).fit(np.hstack([Xtr[train], col[:, None]]), y[train])
                                .predict(np.hstack([Xtr[held], held_col[:, None]])), 0, 10)
        print(f"  fold {f}: k {k}: plain {rmse(plain[held], y[held]):.4f}, with kNN column {rmse(withknn[held], y[held]):.4f}", flush=True)
    res = {"store": a.store, "checkpoint": a.checkpoint, "rows": int(len(y)), "features": int(Xtr.shape[1]), "k": chosen,
           "default_cv": rmse(default_oof, y), "lightgbm_cv": rmse(plain, y), "lightgbm_knn_column_cv": rmse(withknn, y)}
    if a.task_dir:
        y_test = test_labels(a.task_dir, c.test_positions)
        all_rows = np.arange(len(y))
        _, col, test_col = with_column(all_rows, Vte, mte)
        res["test"] = {
            "lightgbm": rmse(np.clip(lightgbm.LGBMRegressor(**params).fit(Xtr, y).predict(Xte), 0, 10), y_test),
            "lightgbm_knn_column": rmse(np.clip(lightgbm.LGBMRegressor(**params).fit(np.hstack([Xtr, col[:, None]]), y)
                                                .predict(np.hstack([Xte, test_col[:, None]])), 0, 10), y_test)}
    json.dump(res, open(a.out, "w"), indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
