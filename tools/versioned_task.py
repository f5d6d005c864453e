#!/usr/bin/env python3
"""Writes a shared task again as a data set built to trap identical-text CV (issue #25): each
record in several versions of the same item, all with the item's score, all on the item's
side of the train/test split, the way machine-translated judge data repeats an item.

The versions are light rewordings that change the text but hardly its meaning (and so its
vector): the original, lower case, "Q:"/"A:" prefixes, and sentence ends turned to "!". A
fitstore CV whose folds are grouped by identical text sees the other versions of a held-out
item in training; a test row never does.

    tools/versioned_task.py TASK_DIR OUT_DIR [--versions 4]

OUT_DIR gets metric_names.json (and the embeddings and definitions when the task has them),
train_data.json, test_data.json, test_labels.csv and test_meta.csv (with a `version` column).
"""
import argparse, csv, json, os, re, shutil


def versions(text, n):
    if text is None:
        return [None] * n
    forms = [text, text.lower(), "Q: " + text if not text.startswith("Q: ") else text + " ", re.sub(r"\.(\s|$)", r"!\1", text) + " "]
    return [forms[i % len(forms)] for i in range(n)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("task")
    p.add_argument("out")
    p.add_argument("--versions", type=int, default=4)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in ["metric_names.json", "metric_name_embeddings.npy", "metric_definitions.json"]:
        if os.path.exists(os.path.join(a.task, name)):
            shutil.copy(os.path.join(a.task, name), os.path.join(a.out, name))
    train = json.load(open(os.path.join(a.task, "train_data.json")))
    test = json.load(open(os.path.join(a.task, "test_data.json")))
    labels = {int(r["ID"]): r["score"] for r in csv.DictReader(open(os.path.join(a.task, "test_labels.csv")))}
    meta_path = os.path.join(a.task, "test_meta.csv")
    meta = {int(r["ID"]): r for r in csv.DictReader(open(meta_path))} if os.path.exists(meta_path) else {}

    def expand(records):
        out = []
        for i, r in enumerate(records):
            prompts = versions(r.get("user_prompt"), a.versions)
            responses = versions(r.get("response"), a.versions)
            for v in range(a.versions):
                copy = dict(r)
                copy["user_prompt"] = prompts[v]
                copy["response"] = responses[v]
                out.append((i, v, copy))
        return out

    json.dump([r for _, _, r in expand(train)], open(os.path.join(a.out, "train_data.json"), "w"), ensure_ascii=False)
    expanded = expand(test)
    json.dump([r for _, _, r in expanded], open(os.path.join(a.out, "test_data.json"), "w"), ensure_ascii=False)
    with open(os.path.join(a.out, "test_labels.csv"), "w") as f:
        f.write("ID,score\n")
        for new_id, (i, _, _) in enumerate(expanded, start=1):
            f.write(f"{new_id},{labels[i + 1]}\n")
    columns = [c for c in (next(iter(meta.values())).keys() if meta else []) if c != "ID"]
    with open(os.path.join(a.out, "test_meta.csv"), "w") as f:
        f.write(",".join(["ID"] + columns + ["version"]) + "\n")
        for new_id, (i, v, _) in enumerate(expanded, start=1):
            row = meta.get(i + 1, {})
            f.write(",".join([str(new_id)] + [row.get(c, "") for c in columns] + [str(v)]) + "\n")
    print(f"{a.out}: {len(train)} train and {len(test)} test records, {a.versions} versions each")


if __name__ == "__main__":
    main()
