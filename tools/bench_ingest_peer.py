#!/usr/bin/env python3
"""The peer of bench/ingest: the straightforward Python way to put a DA5401 folder into
SQLite (json.load, hashlib, sqlite3), with the same deduplicated texts and samples, in one
transaction. It validates nothing and keeps no lineage, so it is a lower bound on work."""
import hashlib, json, sqlite3, sys, os

folder, path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.executescript("""
CREATE TABLE text (id INTEGER PRIMARY KEY, sha256 BLOB UNIQUE, body TEXT);
CREATE TABLE metric (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE sample (id INTEGER PRIMARY KEY, split TEXT, position INTEGER, metric_id INTEGER,
  prompt_id INTEGER, response_id INTEGER, system_id INTEGER, score REAL);
""")
ids = {}
def text_id(body):
    if body is None:
        return None
    h = hashlib.sha256(body.encode()).digest()
    if h not in ids:
        cur = db.execute("INSERT INTO text (sha256, body) VALUES (?, ?)", (h, body))
        ids[h] = cur.lastrowid
    return ids[h]

with db:
    names = json.load(open(os.path.join(folder, "metric_names.json")))
    metric = {}
    for n in names:
        metric[n] = db.execute("INSERT INTO metric (name) VALUES (?)", (n,)).lastrowid
    for split in ("train", "test"):
        f = os.path.join(folder, f"{split}_data.json")
        if not os.path.exists(f):
            continue
        for i, r in enumerate(json.load(open(f, encoding="utf-8"))):
            sp = r.get("system_prompt")
            sp = sp if sp and sp.strip() else None
            score = float(r["score"]) if split == "train" else None
            db.execute("INSERT INTO sample VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)",
                       (split, i, metric[r["metric_name"]], text_id(r["user_prompt"]),
                        text_id(r.get("response")), text_id(sp), score))
db.close()
