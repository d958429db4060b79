#!/usr/bin/python3
"""torch_ref.py: an independent reference of the Qwen2 / Llama architecture in PyTorch,
computing in float64 from the same config.json + safetensors files srlm reads. It is the
oracle for srlm's whole-model tests; it shares no code with srlm.

Usage:
  torch_ref.py MODEL_DIR --ids 1,2,3 --out LOGITS.f32        logits [T, V] as little-endian f32
  torch_ref.py MODEL_DIR --ids 1,2,3 --greedy N --out IDS.txt  greedy continuation (ids, one line)
       with --margins FILE: the top-1/top-2 logit margin at each greedy step
Options: --rope interleaved (GGUF llama layout), --round f16|bf16 (round weights before use),
--kv f16 (round K and V as srlm's f16 KV cache stores them).
Run with Debian's /usr/bin/python3 (python3-torch)."""
import argparse, json, math, os, struct, sys
import numpy as np
import torch

DT = {'F32': (np.float32, 4), 'F16': (np.float16, 2), 'BF16': (None, 2)}


def read_safetensors(path):
    """Returns {name: float64 tensor}. Checks the header rules transformers relies on."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    if 8 + n > len(data):
        sys.exit('%s: header length %d past end of file' % (path, n))
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', None)
    base = 8 + n
    out = {}
    for name, info in header.items():
        lo, hi = info['data_offsets']
        raw = data[base + lo:base + hi]
        shape = info['shape']
        dt = info['dtype']
        if dt == 'BF16':
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif dt in DT:
            arr = np.frombuffer(raw, dtype=DT[dt][0])
        else:
            sys.exit('%s: tensor %s has unsupported dtype %s' % (path, name, dt))
        out[name] = torch.from_numpy(arr.astype(np.float64).reshape(shape))
    return out, meta


def load_model(d):
    cfg = json.load(open(os.path.join(d, 'config.json')))
    idx = os.path.join(d, 'model.safetensors.index.json')
    w = {}
    meta = None
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))['weight_map'].values()))
        for fn in files:
            part, meta = read_safetensors(os.path.join(d, fn))
            w.update(part)
    else:
        w, meta = read_safetensors(os.path.join(d, 'model.safetensors'))
    return cfg, w, meta


def round_weights(w, how):
    """Rounds the matrices and embeddings (2-D tensors) as srlm stores them; norms and
    biases stay in full precision, as on the device."""
    for k in w:
        if w[k].dim() != 2:
            continue
        if how == 'f16':
            w[k] = w[k].to(torch.float16).to(torch.float64)
        elif how == 'bf16':
            # round to nearest even through float32 bit manipulation
            f = w[k].to(torch.float32).numpy().view(np.uint32)
            r = ((f + 0x7FFF + ((f >> 16) & 1)) >> 16) << 16
            w[k] = torch.from_numpy(r.astype(np.uint32).view(np.float32).astype(np.float64))


def rmsnorm(x, g, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * g


def rope(x, pos, theta, interleaved):
    # x: (T, H, D)
    D = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = pos[:, None].to(torch.float64) * inv[None, :]  # (T, D/2)
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = x1 * cos - x2 * sin
        out[..., 1::2] = x1 * sin + x2 * cos
        return out
    x1, x2 = x[..., :D // 2], x[..., D // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def round_f16(t):
    return t.to(torch.float16).to(torch.float64)


def forward(cfg, w, ids, interleaved=False, kv_f16=False):
    """Logits (T, V) in float64 for one sequence of token ids."""
    C = cfg['hidden_size']
    L = cfg['num_hidden_layers']
    NH = cfg['num_attention_heads']
    NKV = cfg.get('num_key_value_heads', NH)
    HS = C // NH
    eps = cfg.get('rms_norm_eps', 1e-6)
    theta = cfg.get('rope_theta', 10000.0)
    T = len(ids)
    ids_t = torch.tensor(ids, dtype=torch.long)
    pos = torch.arange(T)
    x = w['model.embed_tokens.weight'][ids_t]
    mask = torch.full((T, T), float('-inf'), dtype=torch.float64).triu(1)
    for l in range(L):
        p = 'model.layers.%d.' % l
        h = rmsnorm(x, w[p + 'input_layernorm.weight'], eps)
        def lin(name, inp):
            y = inp @ w[p + name + '.weight'].T
            b = w.get(p + name + '.bias')
            return y + b if b is not None else y
        q = lin('self_attn.q_proj', h).view(T, NH, HS)
        k = lin('self_attn.k_proj', h).view(T, NKV, HS)
        v = lin('self_attn.v_proj', h).view(T, NKV, HS)
        q = rope(q, pos, theta, interleaved)
        k = rope(k, pos, theta, interleaved)
        if kv_f16:  # srlm's KV cache stores K (after RoPE) and V as f16
            k, v = round_f16(k), round_f16(v)
        rep = NH // NKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = torch.einsum('thd,shd->hts', q, k) / math.sqrt(HS) + mask
        att = torch.softmax(att, dim=-1)
        o = torch.einsum('hts,shd->thd', att, v).reshape(T, C)
        x = x + lin('self_attn.o_proj', o)
        h = rmsnorm(x, w[p + 'post_attention_layernorm.weight'], eps)
        g = lin('mlp.gate_proj', h)
        u = lin('mlp.up_proj', h)
        x = x + lin('mlp.down_proj', torch.nn.functional.silu(g) * u)
    x = rmsnorm(x, w['model.norm.weight'], eps)
    head = w.get('lm_head.weight', w['model.embed_tokens.weight'])
    return x @ head.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--ids', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--greedy', type=int, default=0)
    ap.add_argument('--margins')
    ap.add_argument('--rope', default='half', choices=['half', 'interleaved'])
    ap.add_argument('--round', choices=['f16', 'bf16'])
    ap.add_argument('--kv', choices=['f64', 'f16'], default='f64', help='round K and V as a KV cache of this dtype')
    a = ap.parse_args()
    cfg, w, meta = load_model(a.model)
    if meta is not None and meta.get('format') != 'pt':
        sys.exit('safetensors __metadata__ lacks format=pt: transformers would refuse it')
    if a.round:
        round_weights(w, a.round)
    ids = [int(t) for t in a.ids.split(',') if t]
    inter = a.rope == 'interleaved'
    kv16 = a.kv == 'f16'
    if a.greedy:
        margins = []
        for _ in range(a.greedy):
            logits = forward(cfg, w, ids, inter, kv16)[-1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            ids.append(int(top.indices[0]))
        open(a.out, 'w').write(','.join(map(str, ids)) + '\n')
        if a.margins:
            open(a.margins, 'w').write('\n'.join('%.9g' % m for m in margins) + '\n')
        return
    logits = forward(cfg, w, ids, inter, kv16)
    logits.to(torch.float32).numpy().astype('<f4').tofile(a.out)
    print('T=%d V=%d' % logits.shape)


if __name__ == '__main__':
    main()
