#!/usr/bin/env python3
"""ONNX Runtime on a Hugging Face sentence-transformers folder, for bench/encoder-ort: what a
speed-minded user runs instead of fitstore (the engine under fastembed and optimum).

    tools/ort_reference.py FOLDER TEXTS.json OUT_PREFIX --threads N [--int8] [--batch 32]

Exports the folder's transformer to ONNX once (torch.onnx, cached beside OUT_PREFIX), fuses it
with ORT's transformer optimizer (attention, GELU, LayerNorm: optimum's O2), with --int8
quantizes its weights dynamically (onnxruntime.quantization.quantize_dynamic, the easy
path), then embeds the texts as fastembed does: batches of --batch texts sorted by length (so
little padding is computed), truncated at the folder's max_seq_length, mean pooling over the
attention mask, L2 normalization. Writes OUT_PREFIX.npy (rows in input order) and prints one
JSON line: seconds (texts in, vectors out, tokenization included, as fitstore's own seconds
are: the export and session load are not counted), tokenize_seconds (the part of them the
tokenizer took, its threads pinned to --threads), tokens (with special tokens, after
truncation: the work every engine must do), peak RSS.
"""
import argparse
import json
import os
import resource
import time


def export(folder, path, max_length):
    import torch
    from transformers import AutoModel
    # The eager attention traces into a graph that is right for every batch and length (the
    # default SDPA path builds its mask with shape-specialized indexing).
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        """The transformer's last hidden state from ids and mask (named arguments: the
        model's positional order differs between transformers versions)."""
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    with torch.inference_mode():
        torch.onnx.export(Hidden().eval(), (ids, mask), path, input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                        "last_hidden_state": {0: "batch", 1: "tokens"}},
                          opset_version=17, dynamo=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("texts")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--cache", help="folder for the exported .onnx files (default: beside OUT)")
    args = ap.parse_args()

    # The tokenizer's Rust thread pool reads this when it starts: pin it to the threads every
    # engine gets (fitstore tokenizes on its --threads too).
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    with open(os.path.join(args.folder, "sentence_bert_config.json")) as f:
        max_length = json.load(f).get("max_seq_length", 512)
    cache = args.cache or os.path.dirname(os.path.abspath(args.out))
    name = os.path.basename(os.path.normpath(args.folder))
    fp32 = os.path.join(cache, f"{name}.onnx")
    if not os.path.exists(fp32):
        export(args.folder, fp32, max_length)
    # The transformer optimizer fuses attention, GELU, LayerNorm and the bias adds into ORT's
    # own kernels: what optimum's O2 gives a user, and the fastest ORT graph for these models.
    fused = os.path.join(cache, f"{name}.fused.onnx")
    if not os.path.exists(fused):
        from onnxruntime.transformers import optimizer
        with open(os.path.join(args.folder, "config.json")) as f:
            config = json.load(f)
        optimized = optimizer.optimize_model(fp32, model_type="bert", num_heads=config["num_attention_heads"],
                                             hidden_size=config["hidden_size"], opt_level=1)
        optimized.save_model_to_file(fused)
    fp32 = fused
    path = fp32
    if args.int8:
        path = os.path.join(cache, f"{name}.int8.onnx")
        if not os.path.exists(path):
            from onnxruntime.quantization import QuantType, quantize_dynamic
            import onnx
            # The fused graph's contrib ops leave some outputs untyped for the quantizer's shape
            # inference: they are float32.
            quantize_dynamic(fp32, path, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    tokenizer = Tokenizer.from_file(os.path.join(args.folder, "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    # Some tokenizer.json files pad to a fixed length: the batches below pad themselves.
    tokenizer.no_padding()
    texts = json.load(open(args.texts, encoding="utf-8"))
    # Texts in, vectors out: a user of ORT tokenizes too (fastembed's embed() does, inside),
    # and fitstore's seconds include its tokenizer.
    start = time.perf_counter()
    encoded = tokenizer.encode_batch(texts)
    tokenize_seconds = time.perf_counter() - start
    tokens = sum(len(e.ids) for e in encoded)
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
    rows = {}
    for b in range(0, len(order), args.batch):
        chunk = order[b:b + args.batch]
        width = max(len(encoded[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), width), dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for r, i in enumerate(chunk):
            n = len(encoded[i].ids)
            ids[r, :n] = encoded[i].ids
            mask[r, :n] = 1
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        for r, i in enumerate(chunk):
            rows[i] = pooled[r]
    seconds = time.perf_counter() - start
    vectors = np.stack([rows[i] for i in range(len(texts))]).astype(np.float32)
    np.save(args.out + ".npy", vectors)
    print(json.dumps({"seconds": seconds, "tokenize_seconds": tokenize_seconds, "tokens": tokens, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
