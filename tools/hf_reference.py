#!/usr/bin/env python3
"""Reference embeddings of a Hugging Face model folder, for the parity tests and bench/encoder-hf.

    tools/hf_reference.py FOLDER TEXTS.json OUT_PREFIX [--threads N] [--batch N] [--prefix TEXT]

Writes OUT_PREFIX.npy (float32, one row per text: sentence-transformers' encode of the folder,
pooled and normalized as its modules say, truncated at its max_seq_length) and
OUT_PREFIX.ids.json (the tokenizers library's content ids per text, no special tokens and no
truncation), and prints one JSON line: seconds, tokens, peak RSS. Needs sentence-transformers
(tools/setup installs it for the tests); nothing of fitstore runs here.
"""
import argparse
import json
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("texts")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--prefix", default="")
    args = ap.parse_args()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    texts = [args.prefix + t for t in json.load(open(args.texts, encoding="utf-8"))]
    model = SentenceTransformer(args.folder, device="cpu")
    tokenizer = model.tokenizer
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    start = time.perf_counter()
    with torch.inference_mode():
        vectors = model.encode(texts, batch_size=args.batch, convert_to_numpy=True, show_progress_bar=False)
    seconds = time.perf_counter() - start
    np.save(args.out + ".npy", vectors.astype(np.float32))
    json.dump(ids, open(args.out + ".ids.json", "w"))
    limit = model.max_seq_length
    tokens = sum(min(len(i) + 2, limit) for i in ids)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "tokens": tokens, "texts": len(texts), "peak_rss_kb": peak_kb,
                      "max_seq_length": limit}))


if __name__ == "__main__":
    sys.exit(main())
