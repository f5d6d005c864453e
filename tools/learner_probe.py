#!/usr/bin/env python3
"""The second-learner probe of issue 14 (a measurement, never run by fitstore): would a ridge
regression or a k-nearest-neighbour regressor on the same vectors, blended with a fitstore
checkpoint by out-of-fold predictions, or a kNN target feature given to a tree model, lower
the CV RMSE enough to be worth building? Same rows and the SAME grouped folds as the
checkpoint (read from its cv_prediction rows); every choice (ridge alpha, k) is made inside
each fold by an inner grouped split of that fold's training rows; blend weights by
non-negative least squares with a nested CV, like `fitstore blend`.

    tools/learner_probe.py STORE CHECKPOINT --fitstore BIN --out RESULT.json [--task-dir DIR]

- Features: `fitstore export` of the real rows (prompt | response | metric vectors of the
  checkpoint's encoder), plus a one-hot of the metric for ridge.
- kNN: cosine on the [prompt | response] vectors, among the training rows of the same metric
  (all rows when the metric has fewer than k); prediction = mean score of the k nearest.
- kNN target feature: sklearn's HistGradientBoostingRegressor (a stand-in for our trees) on
  the exported features, with and without one more column, the kNN prediction (out-of-fold
  inside each fold's training rows, from all of them for the held-out rows).
- With --task-dir, test RMSE too (information only: nothing is chosen by it).
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def nnls(x, y):
    """Non-negative least squares, no intercept, by trying every active set (few columns)."""
    n = x.shape[1]
    best, best_w = None, np.zeros(n)
    for mask in range(1, 2 ** n):
        active = [j for j in range(n) if mask >> j & 1]
        w, *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
        if np.any(w < 0):
            continue
        full = np.zeros(n)
        full[active] = w
        err = float(np.sum((x @ full - y) ** 2))
        if best is None or err < best:
            best, best_w = err, full
    return best_w


def nested_blend(cols, y, fold):
    x = np.stack(cols, 1)
    out = np.zeros(len(y))
    for f in np.unique(fold):
        w = nnls(x[fold != f], y[fold != f])
        out[fold == f] = x[fold == f] @ w
    return rmse(out, y), nnls(x, y)


def inner_folds(items, rows, parts, seed):
    keys = sorted(set(items[r] for r in rows))
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    part = {k: i % parts for i, k in enumerate(keys)}
    return np.array([part[items[r]] for r in rows])


def ridge_fit(x, y, alpha):
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    ym = y.mean()
    w = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - ym))
    return lambda q: np.clip(((q - mu) / sd) @ w + ym, 0, 10)


def knn_predict(v_train, y_train, m_train, v_query, m_query, k):
    sims = v_query @ v_train.T
    out = np.zeros(len(v_query))
    for i in range(len(v_query)):
        same = m_train == m_query[i]
        s = np.where(same, sims[i], -np.inf) if same.sum() >= k else sims[i]
        top = np.argpartition(-s, k - 1)[:k]
        out[i] = y_train[top].mean()
    return out


def load_checkpoint(store, checkpoint, fitstore, checkpoint_features=False):
    """A checkpoint's rows as `fitstore export` writes them (with the checkpoint's encoders; with
    `checkpoint_features`, also the extra columns and the system prompt block where the
    checkpoint has them), and what the store keeps of the checkpoint: each real train row's
    fold, out-of-fold prediction and item, each test row's prediction and record position."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    enc = db.execute("SELECT e.name FROM checkpoint_encoder ce JOIN encoder e ON e.id = ce.encoder_id "
                     "WHERE ce.checkpoint_id = ? ORDER BY ce.position", (checkpoint,)).fetchall()
    fold_of = dict(db.execute("SELECT sample_id, fold FROM cv_prediction WHERE checkpoint_id = ?", (checkpoint,)))
    oof_of = dict(db.execute("SELECT sample_id, score FROM cv_prediction WHERE checkpoint_id = ?", (checkpoint,)))
    test_of = dict(db.execute("SELECT sample_id, score FROM prediction WHERE checkpoint_id = ?", (checkpoint,)))
    item_of = {s: f"{p_}:{r}" for s, p_, r in db.execute(
        "SELECT id, prompt_text_id, response_text_id FROM sample WHERE origin = 'real' AND retired_run_id IS NULL")}
    position_of = dict(db.execute("SELECT id, position FROM sample WHERE split = 'test'"))
    features = json.loads(db.execute("SELECT config FROM checkpoint WHERE id = ?", (checkpoint,)).fetchone()[0])["features"]
    with tempfile.TemporaryDirectory() as tmp:
        args = [fitstore, "export", "--store", store, "--out", tmp, "--split", "all"]
        if checkpoint_features and features.get("extras"):
            args.append("--extras")
        if checkpoint_features and features.get("systemDims"):
            args.append("--system-prompt")
        if enc:
            args += ["--encoder", ",".join(e[0] for e in enc)]
        subprocess.run(args, check=True, capture_output=True)
        X = np.load(os.path.join(tmp, "X.npy")).astype(np.float64)
        y_all = np.load(os.path.join(tmp, "y.npy")).astype(np.float64)
        ids = np.load(os.path.join(tmp, "sample_id.npy"))
        metric = np.load(os.path.join(tmp, "metric_id.npy"))
        split = np.load(os.path.join(tmp, "split.npy"))
        manifest = json.load(open(os.path.join(tmp, "manifest.json")))
    tr = np.array([s == "train" for s in split])
    if not all(int(i) in fold_of for i in ids[tr]):
        sys.exit(f"{os.path.basename(sys.argv[0])}: the checkpoint has no out-of-fold prediction for some exported train row")
    return SimpleNamespace(
        manifest=manifest, ids=ids, tr=tr, te=~tr, Xtr=X[tr], Xte=X[~tr], y=y_all[tr], mtr=metric[tr], mte=metric[~tr],
        fold=np.array([fold_of[int(i)] for i in ids[tr]]), default_oof=np.array([oof_of[int(i)] for i in ids[tr]]),
        items=[item_of[int(i)] for i in ids[tr]], test_of=test_of,
        test_positions=[position_of[int(i)] for i in ids[~tr]])


def unit_blocks(v, manifest):
    """The prompt and response blocks of the export's layout, each L2-normalized, side by side
    and scaled by 1/sqrt(2): a dot product is the mean of the two cosines."""
    blocks = [(b["start"], b["end"]) for b in manifest["features"] if b["name"] in ("prompt", "response")]
    parts = [v[:, s:e] / (np.linalg.norm(v[:, s:e], axis=1, keepdims=True) + 1e-12) for s, e in blocks]
    return np.hstack(parts) / np.sqrt(len(parts))


def test_labels(task_dir, positions):
    """The labels of test records at these positions (0-based), from the task's test_labels.csv."""
    labels = {}
    for line in open(os.path.join(task_dir, "test_labels.csv")).read().splitlines()[1:]:
        i, s = line.split(",")[:2]
        labels[int(i)] = float(s)
    return np.array([labels[p + 1] for p in positions])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store")
    p.add_argument("checkpoint", type=int)
    p.add_argument("--fitstore", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--task-dir")
    a = p.parse_args()

    c = load_checkpoint(a.store, a.checkpoint, a.fitstore)
    y, fold, default_oof, items = c.y, c.fold, c.default_oof, c.items
    Xtr, Xte, mtr, mte = c.Xtr, c.Xte, c.mtr, c.mte
    metrics = np.unique(np.concatenate([mtr, mte]))
    onehot = lambda m: (m[:, None] == metrics[None, :]).astype(np.float64)
    Rtr, Rte = np.hstack([Xtr, onehot(mtr)]), np.hstack([Xte, onehot(mte)])
    width = Xtr.shape[1]
    Vtr, Vte = unit_blocks(Xtr, c.manifest), unit_blocks(Xte, c.manifest)

    alphas, ks = [1.0, 10.0, 100.0, 1000.0, 1e4, 1e5, 1e6], [5, 10, 20, 50, 100]
    ridge_oof, knn_oof = np.zeros(len(y)), np.zeros(len(y))
    chosen = {"alpha": [], "k": []}
    for f in np.unique(fold):
        train = np.where(fold != f)[0]
        held = np.where(fold == f)[0]
        inner = inner_folds(items, train, 4, 17 + int(f))
        best_a = min(alphas, key=lambda al: sum(
            np.sum((ridge_fit(Rtr[train[inner != j]], y[train[inner != j]], al)(Rtr[train[inner == j]]) - y[train[inner == j]]) ** 2)
            for j in range(4)))
        best_k = min(ks, key=lambda k: sum(
            np.sum((knn_predict(Vtr[train[inner != j]], y[train[inner != j]], mtr[train[inner != j]],
                                Vtr[train[inner == j]], mtr[train[inner == j]], k) - y[train[inner == j]]) ** 2)
            for j in range(4)))
        chosen["alpha"].append(best_a)
        chosen["k"].append(best_k)
        ridge_oof[held] = ridge_fit(Rtr[train], y[train], best_a)(Rtr[held])
        knn_oof[held] = knn_predict(Vtr[train], y[train], mtr[train], Vtr[held], mtr[held], best_k)
        print(f"  fold {f}: alpha {best_a:g}, k {best_k}", flush=True)

    res = {"store": a.store, "checkpoint": a.checkpoint, "rows": int(len(y)), "features": int(width),
           "default_cv": rmse(default_oof, y), "ridge_cv": rmse(ridge_oof, y), "knn_cv": rmse(knn_oof, y),
           "chosen": chosen}
    for name, cols in {"default+ridge": [default_oof, ridge_oof], "default+knn": [default_oof, knn_oof],
                       "default+ridge+knn": [default_oof, ridge_oof, knn_oof]}.items():
        cv, w = nested_blend(cols, y, fold)
        res[name] = {"cv": cv, "weights": w.tolist()}

    # kNN target feature for a tree model (HistGradientBoosting as the stand-in).
    hgb = lambda: HistGradientBoostingRegressor(max_iter=400, learning_rate=0.03, max_leaf_nodes=15, min_samples_leaf=20,
                                                random_state=5401)
    plain, withknn = np.zeros(len(y)), np.zeros(len(y))
    for f in np.unique(fold):
        train = np.where(fold != f)[0]
        held = np.where(fold == f)[0]
        k = chosen["k"][int(f)]
        inner = inner_folds(items, train, 5, 31 + int(f))
        feat_train = np.zeros(len(train))
        for j in range(5):
            feat_train[inner == j] = knn_predict(Vtr[train[inner != j]], y[train[inner != j]], mtr[train[inner != j]],
                                                 Vtr[train[inner == j]], mtr[train[inner == j]], k)
        feat_held = knn_predict(Vtr[train], y[train], mtr[train], Vtr[held], mtr[held], k)
        plain[held] = np.clip(hgb().fit(Xtr[train], y[train]).predict(Xtr[held]), 0, 10)
        withknn[held] = np.clip(hgb().fit(np.hstack([Xtr[train], feat_train[:, None]]), y[train])
                                .predict(np.hstack([Xtr[held], feat_held[:, None]])), 0, 10)
    res["hgb_cv"], res["hgb_knn_feature_cv"] = rmse(plain, y), rmse(withknn, y)

    if a.task_dir:
        y_test = test_labels(a.task_dir, c.test_positions)
        d_test = np.array([c.test_of[int(i)] for i in c.ids[c.te]])
        alpha = float(np.median(chosen["alpha"]))
        k = int(np.median(chosen["k"]))
        r_test = ridge_fit(Rtr, y, alpha)(Rte)
        k_test = knn_predict(Vtr, y, mtr, Vte, mte, k)
        res["test"] = {"default": rmse(d_test, y_test), "ridge": rmse(r_test, y_test), "knn": rmse(k_test, y_test)}
        for name, cols in {"default+ridge": [d_test, r_test], "default+knn": [d_test, k_test],
                           "default+ridge+knn": [d_test, r_test, k_test]}.items():
            res["test"][name] = rmse(np.clip(np.stack(cols, 1) @ np.array(res[name]["weights"]), 0, 10), y_test)
    json.dump(res, open(a.out, "w"), indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
