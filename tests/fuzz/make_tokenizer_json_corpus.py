#!/usr/bin/env python3
# make_tokenizer_json_corpus.py: regenerates the seed corpus corpus/tokenizer_json/ (small
# byte-level BPE tokenizer.json files, each optionally followed by NUL + a text to encode).
import json, os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'tokenizer_json')
def b2u():
    bs = list(range(33,127)) + list(range(161,173)) + list(range(174,256))
    cs = bs[:]; n = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}
M = b2u()
def sp(s): return ''.join(M[b] for b in (s if isinstance(s, bytes) else s.encode()))
def vocab_with(merges_words):
    v = {M[b]: i for i, b in enumerate(sorted(M))}
    merges = []
    for a, b in merges_words:
        merges.append([sp(a), sp(b)])
        if sp(a) + sp(b) not in v: v[sp(a) + sp(b)] = len(v)
    return v, merges
qwen_re = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
mw = [("h","e"),("l","l"),("he","ll"),("hell","o"),(" ","w"),("o","r"),(" w","or"),("l","d"),(" wor","ld"),(b"\xc3", b"\xa9"),("é","s"),(b"\xe4", b"\xb8"),(b"\xe4\xb8", b"\x96"),(b"\xe7", b"\x95"),(b"\xe7\x95", b"\x8c"),("世","界"),(" "," ")]
v, merges = vocab_with(mw)
added = [{"id": len(v), "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
         {"id": len(v)+1, "content": "<|im_start|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
         {"id": len(v)+2, "content": "<|im_end|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
         {"id": len(v)+3, "content": "<mask>", "single_word": False, "lstrip": True, "rstrip": True, "normalized": False, "special": False}]
def tok(pre, norm, merges, vocab=v, added=added, extra_model=None):
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
             "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges}
    if extra_model: model.update(extra_model)
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": norm,
            "pre_tokenizer": pre, "post_processor": None, "decoder": {"type": "ByteLevel"}, "model": model}
qwen_pre = {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": qwen_re}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
gpt2_pre = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
text = "hello world <|im_start|>user\nhéllo  wörld 世界!<|im_end|>\n x <mask> y 123 'll\t\r\n".encode()
def write(name, obj_or_bytes, txt=text):
    data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes, ensure_ascii=False).encode()
    if txt is not None: data += b"\0" + txt
    open(os.path.join(out, name), 'wb').write(data)
write('qwen_like.json', tok(qwen_pre, {"type": "NFC"}, merges))
write('gpt2_like.json', tok(gpt2_pre, None, [' '.join(m) for m in merges]))
write('nfc_sequence.json', tok(qwen_pre, {"type": "Sequence", "normalizers": [{"type": "NFC"}]}, merges), "cafe\u0301 e\u0301\u0301 \u212b".encode())
small_v = {k: i for i, k in enumerate([sp("a"), sp("b"), sp("ab"), sp(" ")])}
write('missing_bytes.json', tok(gpt2_pre, None, [[sp("a"), sp("b")]], vocab=small_v, added=[]), b"abab ba xyz \xc3\xa9")
write('no_text.json', tok(qwen_pre, {"type": "NFC"}, merges), None)
write('invalid_text.json', tok(gpt2_pre, None, merges), b"ok \xff\xfe bad \xe2\x82")
write('bad_regex.json', tok({"type": "Split", "pattern": {"Regex": "(\\p{L}+"}, "behavior": "Isolated"}, None, merges))
write('bad_merge.json', tok(gpt2_pre, None, [["zz", "q"]]))
write('unsupported.json', tok({"type": "Whitespace"}, {"type": "Lowercase"}, merges))
write('truncated.json', json.dumps(tok(qwen_pre, None, merges[:3]), ensure_ascii=False).encode()[:700])
write('huge_id.json', tok(gpt2_pre, None, [], vocab={"a": 99999999999}, added=[]))
write('byte_split_stream.json', tok(gpt2_pre, None, []), "€€ 🦙 ünï".encode())
write('empty_text.json', tok(gpt2_pre, None, merges), b'')
