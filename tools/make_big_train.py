#!/usr/bin/env python3
"""Writes a large DA5401-format train file for the streaming check of bench/ingest: the
records of SOURCE repeated, each copy's texts made distinct by a suffix, until the file
reaches the requested size in MB. Usage: make_big_train.py SOURCE OUT MB"""
import json, sys

source, out, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
records = json.load(open(source, encoding="utf-8"))
target = int(mb * 1_000_000)
written = 0
with open(out, "w", encoding="utf-8") as f:
    f.write("[\n")
    copy = 0
    first = True
    while written < target:
        for r in records:
            r = dict(r)
            r["user_prompt"] = f"{r['user_prompt']} [copy {copy}]"
            if r.get("response") is not None:
                r["response"] = f"{r['response']} [copy {copy}]"
            line = ("" if first else ",\n") + json.dumps(r, ensure_ascii=False)
            first = False
            f.write(line)
            written += len(line.encode())
            if written >= target:
                break
        copy += 1
    f.write("\n]\n")
