#!/usr/bin/env python3
"""make_corpus.py: writes the committed seed corpora for the safetensors, GGUF and
config.json fuzz targets (small valid files plus a few near-misses). Re-run to regenerate;
findings of fuzz campaigns are added to corpus/ as extra files by hand."""
import json, os, struct

here = os.path.dirname(os.path.abspath(__file__))


def put(kind, name, data):
    d = os.path.join(here, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors ----
def safetensors(tensors, meta={"format": "pt"}, pad=True):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
put("safetensors", "three_dtypes", safetensors([
    ("model.embed_tokens.weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
    ("model.norm.weight", "F16", [2], struct.pack("<2H", 0x3C00, 0xBC00)),
    ("lm_head.weight", "BF16", [1, 2], struct.pack("<2H", 0x3F80, 0x4000)),
]))
put("safetensors", "empty_header", safetensors([], meta=None, pad=False))
put("safetensors", "scalar_and_empty", safetensors([("s", "F32", [], f32(7)), ("e", "F16", [0, 4], b"")]))
overlap = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
put("safetensors", "overlap", struct.pack("<Q", len(overlap)) + overlap + f32(1, 2))
put("safetensors", "bad_dtype", safetensors([("x", "I64", [1], b"\0" * 8)]))

# ---- GGUF ----
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, t, payload):
    return gstr(key) + struct.pack("<I", t) + payload


def gguf(version, kvs, tensors, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs)
    off, data, infos = 0, b"", b""
    for name, ne, ty, raw in tensors:
        data += b"\0" * (-len(data) % alignment)
        infos += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", ty, len(data))
        data += raw
    out += infos
    out += b"\0" * (-len(out) % alignment)
    return out + data


def arr(t, items):
    return struct.pack("<IQ", t, len(items)) + b"".join(items)


all_types = [
    kv("general.architecture", 8, gstr("llama")),
    kv("k.u8", 0, b"\xc8"), kv("k.i8", 1, b"\xfb"), kv("k.u16", 2, struct.pack("<H", 60000)),
    kv("k.i16", 3, struct.pack("<h", -300)), kv("k.u32", 4, struct.pack("<I", 4000000000)),
    kv("k.i32", 5, struct.pack("<i", -7)), kv("k.f32", 6, f32(1.5)), kv("k.bool", 7, b"\x01"),
    kv("k.u64", 10, struct.pack("<Q", 1 << 40)), kv("k.i64", 11, struct.pack("<q", -9)),
    kv("k.f64", 12, struct.pack("<d", 0.25)),
    kv("tokenizer.ggml.tokens", 9, arr(8, [gstr("<s>"), gstr(""), gstr("hello")])),
    kv("nested", 9, arr(9, [arr(4, [struct.pack("<I", 1)]), arr(8, [gstr("a"), gstr("bc")]), arr(0, [])])),
]
q8 = struct.pack("<H", 0x3800) + bytes(range(32))
put("gguf", "all_types_v3", gguf(3, all_types, [("a", [4, 2], 0, f32(*range(8))), ("q", [32], 8, q8),
                                                ("b", [2], 30, struct.pack("<2H", 0x3F80, 0x4000))]))
put("gguf", "all_types_v2_align64", gguf(2, all_types + [kv("general.alignment", 4, struct.pack("<I", 64))],
                                         [("a", [4, 2], 1, struct.pack("<8H", *([0x3C00] * 8)))], alignment=64))
put("gguf", "header_only", gguf(3, [], []))

# A complete tiny llama model: hidden 8, 1 layer, 2 heads (1 KV head), FFN 16, vocab 4.
C, F, V, KV = 8, 16, 4, 4
llama = [kv("general.architecture", 8, gstr("llama")), kv("llama.embedding_length", 4, struct.pack("<I", C)),
         kv("llama.block_count", 4, struct.pack("<I", 1)), kv("llama.attention.head_count", 4, struct.pack("<I", 2)),
         kv("llama.attention.head_count_kv", 4, struct.pack("<I", 1)), kv("llama.feed_forward_length", 4, struct.pack("<I", F)),
         kv("llama.attention.layer_norm_rms_epsilon", 6, f32(1e-5)), kv("llama.rope.freq_base", 6, f32(10000)),
         kv("llama.context_length", 4, struct.pack("<I", 64)),
         kv("tokenizer.ggml.tokens", 9, arr(8, [gstr(t) for t in ("<unk>", "<s>", "</s>", "a")])),
         kv("tokenizer.ggml.scores", 9, arr(6, [f32(0)] * 4)), kv("tokenizer.ggml.token_type", 9, arr(5, [struct.pack("<i", 1)] * 4)),
         kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1)), kv("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 2))]
mat = lambda r, c: f32(*([0.5] * (r * c)))
tensors = [("token_embd.weight", [C, V], 0, mat(V, C)), ("output_norm.weight", [C], 0, mat(1, C)),
           ("blk.0.attn_norm.weight", [C], 0, mat(1, C)), ("blk.0.ffn_norm.weight", [C], 0, mat(1, C)),
           ("blk.0.attn_q.weight", [C, C], 0, mat(C, C)), ("blk.0.attn_k.weight", [C, KV], 0, mat(KV, C)),
           ("blk.0.attn_v.weight", [C, KV], 0, mat(KV, C)), ("blk.0.attn_output.weight", [C, C], 0, mat(C, C)),
           ("blk.0.ffn_gate.weight", [C, F], 0, mat(F, C)), ("blk.0.ffn_up.weight", [C, F], 0, mat(F, C)),
           ("blk.0.ffn_down.weight", [F, C], 0, mat(C, F))]
put("gguf", "tiny_llama_model", gguf(3, llama, tensors))

# ---- config.json ----
root = os.path.join(here, "..", "..")
for p in ("tiny.json", "tiny-llama.json", "qwen2.5-0.5b.json"):
    put("config", p, open(os.path.join(root, "models", p), "rb").read())
put("config", "eos_list.json", b'{"architectures":["LlamaForCausalLM"],"hidden_size":8,"num_hidden_layers":1,'
    b'"num_attention_heads":2,"intermediate_size":4,"vocab_size":9,"eos_token_id":[1,2]}')
put("config", "unknown_arch.json", b'{"architectures":["GPT2LMHeadModel"],"n_embd":8}')
put("gguf", "version1", b"GGUF" + struct.pack("<III", 1, 0, 0))
put("gguf", "truncated_model", gguf(3, llama, tensors)[:-100])

# A tiny qwen2 model: q/k/v biases, no output.weight (tied), rotate-half RoPE.
qwen = [kv("general.architecture", 8, gstr("qwen2")), kv("qwen2.embedding_length", 4, struct.pack("<I", C)),
        kv("qwen2.block_count", 4, struct.pack("<I", 1)), kv("qwen2.attention.head_count", 4, struct.pack("<I", 2)),
        kv("qwen2.attention.head_count_kv", 4, struct.pack("<I", 1)), kv("qwen2.feed_forward_length", 4, struct.pack("<I", F)),
        kv("qwen2.attention.layer_norm_rms_epsilon", 6, f32(1e-6)), kv("qwen2.rope.freq_base", 6, f32(1e6)),
        kv("qwen2.context_length", 4, struct.pack("<I", 128)),
        kv("tokenizer.ggml.tokens", 9, arr(8, [gstr(t) for t in ("a", "b", "c", "d")]))]
qtensors = tensors + [("blk.0.attn_q.bias", [C], 0, mat(1, C)), ("blk.0.attn_k.bias", [KV], 0, mat(1, KV)),
                      ("blk.0.attn_v.bias", [KV], 0, mat(1, KV))]
put("gguf", "tiny_qwen2_model", gguf(3, qwen, qtensors))
