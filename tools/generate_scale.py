#!/usr/bin/env python3
"""A large generated data set in DA5401 format, for bench/scale.

    tools/generate_scale.py OUT_DIR [--rows 1000000] [--texts 200000] [--metrics 120] [--test 20000] [--seed 1]

Writes metric_names.json, metric_definitions.json, train_data.json (ROWS records) and
test_data.json (TEST records). Prompts and responses are drawn from TEXTS distinct made-up
sentences (half prompts, half responses), so the store deduplicates them; scores are integers
0-10 skewed high, like DA5401's. Streamed: memory does not grow with ROWS.
"""
import argparse, json, os, random

WORDS = ("the a model answer question user assistant data metric score judge response prompt "
         "language text helpful safe clear concise correct complete relevant fluent polite "
         "summary translation story code plan list reason fact source claim detail example").split()


def sentence(rng, i):
    n = rng.randint(6, 40)
    return f"[{i}] " + " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--texts", type=int, default=200_000)
    ap.add_argument("--metrics", type=int, default=120)
    ap.add_argument("--test", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    metrics = [f"group{m // 10}/metric_{m}" for m in range(args.metrics)]
    json.dump(metrics, open(os.path.join(args.out, "metric_names.json"), "w"))
    json.dump({m: f"How well the response does on {m.split('/')[1].replace('_', ' ')}." for m in metrics},
              open(os.path.join(args.out, "metric_definitions.json"), "w"))
    half = args.texts // 2
    prompts = [sentence(rng, i) for i in range(half)]
    responses = [sentence(rng, half + i) for i in range(args.texts - half)]
    scores = [10] * 29 + [9] * 62 + [8] * 5 + [7, 6, 3, 0]

    def write(name, count, scored):
        with open(os.path.join(args.out, name), "w") as f:
            f.write("[\n")
            for r in range(count):
                record = {"metric_name": rng.choice(metrics), "user_prompt": rng.choice(prompts),
                          "response": rng.choice(responses), "system_prompt": None}
                if scored:
                    record["score"] = str(rng.choice(scores))
                f.write(("," if r else "") + json.dumps(record, ensure_ascii=False) + "\n")
            f.write("]\n")

    write("train_data.json", args.rows, True)
    write("test_data.json", args.test, False)


if __name__ == "__main__":
    main()
