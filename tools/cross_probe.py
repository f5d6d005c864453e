#!/usr/bin/env python3
"""The cross-encoder probe of issue 16 (a measurement in Python, never run by fitstore): the
built-in multilingual-e5-small, as the XLM-R folder of tools/make_xlmr_folder.py, fine-tuned as
a cross-encoder that reads the metric and the texts together, with only its top K layers
trained, on the SAME grouped folds as a fitstore checkpoint, scored by CV and on the test
labels, and blended with that checkpoint by out-of-fold predictions.

    tools/cross_probe.py TASK_DIR STORE CHECKPOINT XLMR_FOLDER --out RESULT.json
        [--layers 1,2,4] [--max-length 256] [--epochs 4] [--system on|off]
        [--threads 2] [--batch 16]

- Rows, texts, folds and the checkpoint's out-of-fold and test predictions are read from the
  store (read-only): every real train row's fold is the fold `fitstore train` gave it.
- Input: "query: <metric name>" (with --metric-text definition: ": <definition>" too) as the
  first segment; the response, then the
  system prompt (with --system on), then the prompt as the second, truncated from the end at
  --max-length tokens (the metric segment is short and never cut).
- Frozen bottom: the embeddings and the bottom 12 - max(K) layers run once per row (no
  gradient) and their output states are kept in memory (float16); each K continues from there.
- Per fold: 10% of the fold's training items (grouped like the folds) are its own early-stopping
  set; up to --epochs epochs, the epoch with the lowest early-stopping RMSE is kept. The
  held-out fold is never seen before it is predicted. Test predictions: the mean of the fold
  models (no refit).
- Head: mean pooling over the sequence, then a linear layer on standardized targets.
- Blend: non-negative least squares of (checkpoint, probe) out-of-fold predictions; its CV is
  nested (each fold predicted with weights fitted on the other folds), like `fitstore blend`.
"""
import argparse
import json
import math
import os
import random
import sqlite3
import sys
import time

import numpy as np
import torch
from transformers import AutoTokenizer, XLMRobertaModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from learner_probe import nnls, rmse  # noqa: E402  (the same NNLS and RMSE as the learner probe)


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task_dir")
    p.add_argument("store")
    p.add_argument("checkpoint", type=int)
    p.add_argument("folder")
    p.add_argument("--out", required=True)
    p.add_argument("--layers", default="1,2,4")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--system", choices=["on", "off"], default="off")
    p.add_argument("--metric-text", choices=["name", "definition"], default="name",
                   help="the first segment: the metric's name, or its name and definition (longer inputs, slower)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=5401)
    return p.parse_args()


def load(store, checkpoint, task_dir):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    text = "(SELECT body FROM text WHERE id = {})"
    rows = db.execute(f"""
        SELECT s.id, s.split, s.position, s.score, m.name, {text.format('m.definition_text_id')},
               {text.format('s.prompt_text_id')}, {text.format('s.response_text_id')}, {text.format('s.system_text_id')},
               cv.fold, cv.score, p.score, s.prompt_text_id, s.response_text_id
          FROM sample s JOIN metric m ON m.id = s.metric_id
          LEFT JOIN cv_prediction cv ON cv.sample_id = s.id AND cv.checkpoint_id = ?
          LEFT JOIN prediction p ON p.sample_id = s.id AND p.checkpoint_id = ?
         WHERE s.origin = 'real' AND s.retired_run_id IS NULL
           AND s.dataset_id = (SELECT dataset_id FROM checkpoint WHERE id = ?)
         ORDER BY s.split DESC, s.position""", (checkpoint, checkpoint, checkpoint)).fetchall()
    train = [r for r in rows if r[1] == "train"]
    test = [r for r in rows if r[1] == "test"]
    if not train or any(r[9] is None for r in train):
        sys.exit(f"cross_probe: checkpoint {checkpoint} has no out-of-fold prediction for every real train row")
    if any(r[11] is None for r in test):
        sys.exit(f"cross_probe: checkpoint {checkpoint} has no prediction for every test row (run `fitstore predict`)")
    labels = {}
    with open(os.path.join(task_dir, "test_labels.csv")) as f:
        next(f)
        for line in f:
            i, s = line.strip().split(",")[:2]
            labels[int(i)] = float(s)
    # A test row's ID is its 1-based position in test_data.json (the shared tasks' layout).
    y_test = np.array([labels[r[2] + 1] for r in test])
    return train, test, y_test


def segments(r, system, definition_too):
    name, definition, prompt, response, sys_prompt = r[4], r[5], r[6] or "", r[7] or "", r[8] or ""
    first = f"query: {name}" + (f": {definition}" if definition and definition_too else "")
    # The response first (never cut); a system prompt (usr_topicalchat's knowledge passage)
    # before the prompt, which is the longest part and is cut first.
    second = response + ("\n\n" + sys_prompt if system and sys_prompt else "") + "\n\n" + prompt
    return first, second


class Head(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.linear = torch.nn.Linear(hidden, 1)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, h, mask):
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
        return self.linear(pooled).squeeze(-1)


def additive(mask, dtype):
    return ((1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min)


def pad(states, idx):
    """A batch of cached states (list of [T_i, H] float16 tensors) padded to the longest."""
    t = max(states[i].shape[0] for i in idx)
    h = states[idx[0]].shape[1]
    out = torch.zeros(len(idx), t, h)
    mask = torch.zeros(len(idx), t)
    for j, i in enumerate(idx):
        n = states[i].shape[0]
        out[j, :n] = states[i].float()
        mask[j, :n] = 1
    return out, mask


def run_layers(layers, h, mask):
    am = additive(mask, h.dtype)
    for layer in layers:
        h = layer(h, attention_mask=am)
        if isinstance(h, tuple):
            h = h[0]
    return h


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    started = time.time()
    train, test, y_test = load(a.store, a.checkpoint, a.task_dir)
    rows = train + test
    y = np.array([r[3] for r in train], dtype=np.float64)
    fold = np.array([r[9] for r in train])
    oof_default = np.array([r[10] for r in train])
    test_default = np.array([r[11] for r in test])
    items = [(r[12], r[13]) for r in train]
    k_folds = int(fold.max()) + 1
    mean, sd = float(y.mean()), float(y.std() or 1.0)

    tok = AutoTokenizer.from_pretrained(a.folder)
    model = XLMRobertaModel.from_pretrained(a.folder, attn_implementation="sdpa", add_pooling_layer=False)
    model.eval()
    n_layers = len(model.encoder.layer)
    # Most trained layers first: each K continues the frozen states upward from the last.
    ks = sorted({n_layers if k == "all" else int(k) for k in a.layers.split(",")}, reverse=True)
    if any(k < 1 or k > n_layers for k in ks):
        sys.exit(f"cross_probe: --layers must be within 1..{n_layers}")
    frozen_top = n_layers - max(ks)

    # Frozen bottom, once per row.
    firsts, seconds = zip(*(segments(r, a.system == "on", a.metric_text == "definition") for r in rows))
    enc = tok(list(firsts), list(seconds), truncation="only_second", max_length=a.max_length)
    lengths = [len(ids) for ids in enc["input_ids"]]
    t0 = time.time()
    cache = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: lengths[i])
    with torch.no_grad():
        for s in range(0, len(order), 32):
            idx = order[s:s + 32]
            t = max(lengths[i] for i in idx)
            ids = torch.full((len(idx), t), tok.pad_token_id)
            mask = torch.zeros(len(idx), t)
            for j, i in enumerate(idx):
                ids[j, :lengths[i]] = torch.tensor(enc["input_ids"][i])
                mask[j, :lengths[i]] = 1
            h = model.embeddings(input_ids=ids)
            h = run_layers(model.encoder.layer[:frozen_top], h, mask)
            for j, i in enumerate(idx):
                cache[i] = h[j, :lengths[i]].to(torch.float16).clone()
    bottom_seconds = time.time() - t0
    print(f"{os.path.basename(a.task_dir)}: {len(train)} train, {len(test)} test rows, {k_folds} folds, "
          f"tokens mean {np.mean(lengths):.0f} max {max(lengths)}; frozen layers 0..{frozen_top - 1} in {bottom_seconds:.0f} s",
          flush=True)

    state0 = {k: v.clone() for k, v in model.state_dict().items()}
    results = {"task": os.path.basename(a.task_dir.rstrip("/")), "checkpoint": a.checkpoint, "train_rows": len(train),
               "test_rows": len(test), "folds": k_folds, "max_length": a.max_length, "epochs": a.epochs,
               "system": a.system, "metric_text": a.metric_text, "lr": a.lr, "batch": a.batch, "threads": a.threads,
               "tokens_mean": float(np.mean(lengths)), "bottom_seconds": bottom_seconds,
               "default": {"cv": rmse(oof_default, y), "test": rmse(test_default, y_test)},
               "per_metric_mean_cv": None, "settings": []}
    # Per-metric-mean CV baseline on the same folds.
    pm = np.zeros_like(y)
    names = np.array([r[4] for r in train])
    for f in range(k_folds):
        tr = fold != f
        for name in set(names[~tr]):
            sel = tr & (names == name)
            pm[(~tr) & (names == name)] = y[sel].mean() if sel.any() else y[tr].mean()
    results["per_metric_mean_cv"] = rmse(pm, y)

    states = cache
    done_layers = frozen_top
    for k in ks:
        # Continue the frozen part up to layer n_layers - k (once per row), with the base
        # model's weights: the previous K's folds trained these layers in place, and states
        # made by a fold's trained layer would carry other folds' labels into this K's CV.
        model.load_state_dict(state0)
        with torch.no_grad():
            upto = n_layers - k
            if upto > done_layers:
                nxt = [None] * len(rows)
                for s in range(0, len(order), 32):
                    idx = order[s:s + 32]
                    h, mask = pad(states, idx)
                    h = run_layers(model.encoder.layer[done_layers:upto], h, mask)
                    for j, i in enumerate(idx):
                        nxt[i] = h[j, :lengths[i]].to(torch.float16).clone()
                states, done_layers = nxt, upto
        t_k = time.time()
        oof = np.zeros(len(train))
        test_pred = np.zeros(len(test))
        epochs_kept = []
        fold_seconds = []
        for f in range(k_folds):
            tf = time.time()
            model.load_state_dict(state0)
            trained = model.encoder.layer[n_layers - k:]
            head = Head(model.config.hidden_size)
            params = [p for layer in trained for p in layer.parameters()]
            opt = torch.optim.AdamW([{"params": params, "lr": a.lr}, {"params": head.parameters(), "lr": 1e-3}],
                                    weight_decay=0.01)
            tr_rows = [i for i in range(len(train)) if fold[i] != f]
            ho_rows = [i for i in range(len(train)) if fold[i] == f]
            tr_items = sorted(set(items[i] for i in tr_rows))
            rng = random.Random(a.seed + f)
            rng.shuffle(tr_items)
            stop_items = set(tr_items[: max(1, len(tr_items) // 10)])
            stop_rows = [i for i in tr_rows if items[i] in stop_items]
            fit_rows = [i for i in tr_rows if items[i] not in stop_items]
            steps = a.epochs * math.ceil(len(fit_rows) / a.batch)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps))

            def predict(idx_rows, base):
                for layer in trained:
                    layer.eval()
                out = np.zeros(len(idx_rows))
                with torch.no_grad():
                    srt = sorted(range(len(idx_rows)), key=lambda j: lengths[base + idx_rows[j]])
                    for s in range(0, len(srt), 64):
                        js = srt[s:s + 64]
                        h, mask = pad(states, [base + idx_rows[j] for j in js])
                        p = head(run_layers(trained, h, mask), mask).numpy() * sd + mean
                        out[js] = p
                return np.clip(out, 0, 10)

            best = (float("inf"), None, 0)
            for epoch in range(a.epochs):
                for layer in trained:
                    layer.train()
                rng.shuffle(fit_rows)
                # Batches of similar length (shuffled order of length-sorted chunks): less padding.
                chunks = [fit_rows[s:s + a.batch * 20] for s in range(0, len(fit_rows), a.batch * 20)]
                batches = []
                for c in chunks:
                    c = sorted(c, key=lambda i: lengths[i])
                    batches += [c[s:s + a.batch] for s in range(0, len(c), a.batch)]
                rng.shuffle(batches)
                for b in batches:
                    h, mask = pad(states, b)
                    target = torch.tensor((y[b] - mean) / sd, dtype=torch.float32)
                    loss = torch.nn.functional.mse_loss(head(run_layers(trained, h, mask), mask), target)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                e = rmse(predict(stop_rows, 0), y[stop_rows])
                if e < best[0]:
                    best = (e, ({n: p.detach().clone() for n, p in trained.state_dict().items()},
                                {n: p.detach().clone() for n, p in head.state_dict().items()}), epoch + 1)
            trained.load_state_dict(best[1][0])
            head.load_state_dict(best[1][1])
            epochs_kept.append(best[2])
            oof[ho_rows] = predict(ho_rows, 0)
            test_pred += predict(list(range(len(test))), len(train)) / k_folds
            fold_seconds.append(time.time() - tf)
            print(f"  K={k} fold {f}: RMSE {rmse(oof[ho_rows], y[ho_rows]):.4f}, epoch kept {best[2]}, {fold_seconds[-1]:.0f} s", flush=True)

        # Blend with the checkpoint by out-of-fold predictions: weights on all rows for the test
        # predictions; nested CV for the blend's own CV.
        x = np.stack([oof_default, oof], 1)
        w = nnls(x, y)
        nested = np.zeros(len(train))
        for f in range(k_folds):
            wf = nnls(x[fold != f], y[fold != f])
            nested[fold == f] = x[fold == f] @ wf
        blend_test = np.clip(np.stack([test_default, test_pred], 1) @ w, 0, 10)
        setting = {"layers": k, "cv": rmse(oof, y), "test": rmse(test_pred, y_test),
                   "blend_weights": [float(w[0]), float(w[1])], "blend_cv": rmse(nested, y),
                   "blend_test": rmse(blend_test, y_test), "epochs_kept": epochs_kept,
                   "train_seconds": time.time() - t_k, "fold_seconds": fold_seconds,
                   "per_fold_fit_rows": int(len(train) * (k_folds - 1) / k_folds * 0.9)}
        results["settings"].append(setting)
        print(f"  K={k}: CV {setting['cv']:.4f} (default {results['default']['cv']:.4f}), test {setting['test']:.4f} "
              f"(default {results['default']['test']:.4f}); blend w={w.round(3).tolist()} CV {setting['blend_cv']:.4f} "
              f"test {setting['blend_test']:.4f}; {setting['train_seconds']:.0f} s", flush=True)
        with open(a.out, "w") as fh:
            json.dump(results, fh, indent=1)
    results["seconds"] = time.time() - started
    with open(a.out, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
