#!/usr/bin/env python3
"""check_init_folder.py: an independent reader for what `srlm init` writes. Runs the srlm
CLI for a preset, then checks the folder with Python and PyTorch only (no srlm code): the
safetensors header rules transformers relies on (8-byte length, JSON, __metadata__ format pt,
header padded to 8, contiguous offsets covering the data), shapes derived here from
config.json, the documented initial values, and the byte-level tokenizer.json against
GPT-2's byte-to-unicode table computed here. Exit 77 (skip) without torch.
usage: check_init_folder.py SRLM_BINARY SOURCE_ROOT"""
import json, os, struct, subprocess, sys, tempfile

try:
    import torch
except ImportError:
    print("SKIP: torch is not installed for this python (use /usr/bin/python3)")
    sys.exit(77)

srlm, root = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def expected_shapes(c):
    C, L, V, F = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c["intermediate_size"]
    HS = C // c["num_attention_heads"]
    KV = c["num_key_value_heads"] * HS
    bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    s = {"model.embed_tokens.weight": [V, C], "model.norm.weight": [C]}
    if not c["tie_word_embeddings"]:
        s["lm_head.weight"] = [V, C]
    for l in range(L):
        p = "model.layers.%d." % l
        s.update({p + "input_layernorm.weight": [C], p + "post_attention_layernorm.weight": [C],
                  p + "self_attn.q_proj.weight": [C, C], p + "self_attn.k_proj.weight": [KV, C],
                  p + "self_attn.v_proj.weight": [KV, C], p + "self_attn.o_proj.weight": [C, C],
                  p + "mlp.gate_proj.weight": [F, C], p + "mlp.up_proj.weight": [F, C],
                  p + "mlp.down_proj.weight": [C, F]})
        if bias:
            s.update({p + "self_attn.q_proj.bias": [C], p + "self_attn.k_proj.bias": [KV], p + "self_attn.v_proj.bias": [KV]})
    return s


def check_folder(d, dtype):
    cfg = json.load(open(os.path.join(d, "config.json")))
    check(cfg["torch_dtype"] == {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype], "torch_dtype")
    raw = open(os.path.join(d, "model.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    check(n % 8 == 0 and 8 + n <= len(raw), "header length %d padded to 8 and inside the file" % n)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    check(header.pop("__metadata__", None) == {"format": "pt"}, "__metadata__ is {'format': 'pt'}")
    tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    size = {"F32": 4, "F16": 2, "BF16": 2}
    want = expected_shapes(cfg)
    check(set(header) == set(want), "tensor names: extra %s missing %s" % (set(header) - set(want), set(want) - set(header)))
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1]) for v in header.values())
    at = 0
    for b, e in spans:
        check(b == at, "offsets contiguous at %d" % at)
        at = e
    check(at == len(raw) - 8 - n, "tensors cover the data region")
    data = raw[8 + n:]
    for name, v in header.items():
        b, e = v["data_offsets"]
        numel = 1
        for x in v["shape"]:
            numel *= x
        check(v["shape"] == want.get(name), "%s shape %s, want %s" % (name, v["shape"], want.get(name)))
        check(e - b == numel * size[v["dtype"]], "%s byte length" % name)
        t = torch.frombuffer(bytearray(data[b:e]), dtype=tdt[v["dtype"]]).reshape(v["shape"]).double()
        if "norm" in name:
            check(bool((t == 1).all()), "%s is all ones" % name)
        elif numel > 1000:
            check(abs(t.mean().item()) < 0.003 and abs(t.std().item() - 0.02) < 0.002,
                  "%s mean %g std %g" % (name, t.mean().item(), t.std().item()))
    tok = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
    b2u = bytes_to_unicode()
    check(tok["model"]["vocab"] == {b2u[b]: b for b in range(256)}, "vocab is the GPT-2 byte table, id = byte")
    check(tok["model"]["merges"] == [], "no merges")
    added = {t["content"]: t["id"] for t in tok["added_tokens"]}
    V = cfg["vocab_size"]
    check(added == {"<|endoftext|>": 256, "<|im_start|>": 257, "<|im_end|>": 258, "<|mask|>": V - 1}, "specials %s" % added)
    check(tok["pre_tokenizer"]["pretokenizers"][1]["type"] == "ByteLevel" and tok["decoder"]["type"] == "ByteLevel", "ByteLevel")
    tc = json.load(open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8"))
    check(tc["eos_token"] == "<|im_end|>" and "<|im_start|>" in tc["chat_template"], "tokenizer_config")
    print("checked %s (%s): %d tensors" % (d, dtype, len(header)))


with tempfile.TemporaryDirectory() as tmp:
    for preset, dtype in (("tiny.json", "bf16"), ("tiny-llama.json", "f16"), ("tiny.json", "f32")):
        out = os.path.join(tmp, preset + "." + dtype)
        r = subprocess.run([srlm, "init", "--config", os.path.join(root, "models", preset), "--out", out,
                            "--seed", "5", "--dtype", dtype], capture_output=True, text=True)
        check(r.returncode == 0, "srlm init %s: %s" % (preset, r.stderr))
        if r.returncode == 0:
            check_folder(out, dtype)
    r = subprocess.run([srlm, "init", "--config", os.path.join(root, "models", "tiny.json"), "--out", out],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "already exists" in r.stderr, "init over an existing folder fails with exit code 1")
print("%d failures" % failures)
sys.exit(1 if failures else 0)
