#!/usr/bin/env python3
# make_gguf_vocab_corpus.py: regenerates corpus/gguf_vocab/: small vocab-only GGUF files with
# a SentencePiece ("llama") tokenizer, each prefixed by a u16 length and a text to encode
# (the input format of fuzz_gguf_vocab.c).
import os, struct
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'gguf_vocab')

def s(x): b = x.encode() if isinstance(x, str) else x; return struct.pack('<Q', len(b)) + b
def kv_str(k, v): return s(k) + struct.pack('<I', 8) + s(v)
def kv_u32(k, v): return s(k) + struct.pack('<II', 4, v)
def kv_bool(k, v): return s(k) + struct.pack('<IB', 7, 1 if v else 0)
def kv_arr(k, et, items, fmt=None):
    body = b''.join(s(i) for i in items) if et == 8 else b''.join(struct.pack(fmt, i) for i in items)
    return s(k) + struct.pack('<IIQ', 9, et, len(items)) + body

def vocab():
    pieces = [('<unk>', 0.0, 2), ('<s>', 0.0, 3), ('</s>', 0.0, 3)]
    pieces += [('<0x%02X>' % b, 0.0, 6) for b in range(256)]
    words = ['\u2581', '\u2581t', 'h', 'e', 'he', '\u2581the', '\u2581a', 'i', 'n', 'in', 'g', 'ing', '\u2581w',
             'o', 'r', 'l', 'd', 'or', '\u2581wor', 'ld', '\u2581world', 'H', 'He', 'll', 'llo', 'Hello', '\u2581Hello',
             '\u00e9', '\u4e16', '\u754c', '\u4e16\u754c', 'a', 't', 's', '\u2581s', '.', ',', '!']
    pieces += [(w, -float(i), 1) for i, w in enumerate(words)]
    pieces += [('<tag>', 0.0, 4), ('[unused]', 0.0, 5)]
    return pieces

def gguf(pieces, version=3, model='llama', extra=b'', n_extra=0, scores=True, types=True):
    kvs = [kv_str('general.architecture', 'llama'), kv_str('tokenizer.ggml.model', model),
           kv_arr('tokenizer.ggml.tokens', 8, [p[0] for p in pieces])]
    if scores: kvs.append(kv_arr('tokenizer.ggml.scores', 6, [p[1] for p in pieces], '<f'))
    if types: kvs.append(kv_arr('tokenizer.ggml.token_type', 5, [p[2] for p in pieces], '<i'))
    kvs += [kv_u32('tokenizer.ggml.bos_token_id', 1), kv_u32('tokenizer.ggml.eos_token_id', 2),
           kv_u32('tokenizer.ggml.unknown_token_id', 0), kv_bool('tokenizer.ggml.add_bos_token', True),
           kv_bool('tokenizer.ggml.add_space_prefix', True)]
    return b'GGUF' + struct.pack('<IQQ', version, 0, len(kvs) + n_extra) + b''.join(kvs) + extra

def write(name, text, data):
    t = text.encode() if isinstance(text, str) else text
    open(os.path.join(out, name), 'wb').write(struct.pack('<H', len(t)) + t + data)

p = vocab()
write('spm_small.gguf', 'Hello world, the thing <tag> is in \u4e16\u754c! <s> caf\u00e9 \u00fc\u20ac\U0001f999', gguf(p))
write('spm_v2.gguf', ' leading  spaces\tand\nnewlines ', gguf(p, version=2))
write('spm_nested.gguf', 'Hello', gguf(p, extra=s('x.nested') + struct.pack('<IIQ', 9, 9, 2) +
      struct.pack('<IQ', 4, 2) + struct.pack('<II', 1, 2) + struct.pack('<IQ', 8, 1) + s('z'), n_extra=1))
write('spm_truncated.gguf', 'Hello', gguf(p)[:900])
write('spm_gpt2_model.gguf', 'Hello', gguf(p[:300], model='gpt2'))
write('spm_bad_text.gguf', b'ok \xff bad', gguf(p))
write('spm_no_scores_types.gguf', 'Hello world <0x41>', gguf(p, scores=False, types=False))
