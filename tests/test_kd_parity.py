#!/usr/bin/python3
"""test_kd_parity.py: one knowledge-distillation step of srlm against PyTorch autograd in
float64 (the independent reference of tests/ref/torch_ref.py): a random tiny student and a
larger random teacher (3 layers, hidden 96, embedding scaled so its distribution is peaked),
stored f16 on the device, so the reference rounds the teacher's matrices to f16 too.
  loss = alpha * sum w CE + (1 - alpha) * tau^2 * sum w KL   (KL forward or reverse, at tau)
  ce, kl and the loss                    within 1e-5 relative
  every student parameter gradient       max |srlm - ref| / max |ref| <= 1e-3 per tensor
Usage: test_kd_parity.py KD_DUMP SRLM SOURCE_ROOT ALPHA TAU DIR(0 forward, 1 reverse)"""
import json, os, shutil, struct, sys, tempfile
import numpy as np
import torch

dump, srlm, root = sys.argv[1:4]
alpha, tau, direction = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
B, T = 2, 12
sys.path.insert(0, os.path.join(root, 'tests', 'ref'))
import torch_ref  # noqa: E402
from parity_util import Report, run  # noqa: E402

report = Report(64)


def write_safetensors(path, tensors):
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for name, t in tensors.items():
        b = t.to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


tmp = tempfile.mkdtemp(prefix='srlm-kd-parity-')
try:
    sdir, tdir = os.path.join(tmp, 'student'), os.path.join(tmp, 'teacher')
    run([srlm, 'init', '--config', os.path.join(root, 'models', 'tiny.json'), '--out', sdir, '--seed', '21', '--dtype', 'f32'])
    tcfg = json.load(open(os.path.join(root, 'models', 'tiny.json')))
    tcfg.update({'hidden_size': 96, 'intermediate_size': 256, 'num_hidden_layers': 3})
    tjson = os.path.join(tmp, 'teacher.json')
    json.dump(tcfg, open(tjson, 'w'))
    run([srlm, 'init', '--config', tjson, '--out', tdir, '--seed', '22', '--dtype', 'f32'])
    tw, _ = torch_ref.read_safetensors(os.path.join(tdir, 'model.safetensors'))
    tw['model.embed_tokens.weight'] = tw['model.embed_tokens.weight'] * 12.0  # a peaked teacher
    write_safetensors(os.path.join(tdir, 'model.safetensors'), tw)
    run([dump, sdir, tdir, tmp, str(B), str(T), str(alpha), str(tau), str(direction), '7'])
    batch = json.load(open(os.path.join(tmp, 'batch.json')))
    ids = np.array(batch['ids']).reshape(B, T)
    tg = torch.tensor(batch['targets']).reshape(B, T)
    wt = torch.tensor(batch['weights'], dtype=torch.float64).reshape(B, T)
    scfg, sw, _ = torch_ref.load_model(sdir)
    tcfg, tw, _ = torch_ref.load_model(tdir)
    torch_ref.round_weights(tw, 'f16')
    params = {k: v.clone().requires_grad_(True) for k, v in sw.items()}
    ce = torch.zeros((), dtype=torch.float64)
    kl = torch.zeros((), dtype=torch.float64)
    for b in range(B):
        s = torch_ref.forward(scfg, params, ids[b].tolist())
        with torch.no_grad():
            t = torch_ref.forward(tcfg, tw, ids[b].tolist())
        logp = torch.log_softmax(s, dim=-1)
        valid = tg[b] >= 0
        ce = ce - (wt[b][valid] * logp[torch.arange(T)[valid], tg[b][valid]]).sum()
        ls, lt = torch.log_softmax(s / tau, dim=-1), torch.log_softmax(t / tau, dim=-1)
        row = (lt.exp() * (lt - ls)).sum(-1) if direction == 0 else (ls.exp() * (ls - lt)).sum(-1)
        kl = kl + (wt[b] * row).sum()
    loss = alpha * ce + (1 - alpha) * tau * tau * kl
    loss.backward()
    got = [float(x) for x in open(os.path.join(tmp, 'loss.txt')).read().split()]
    name = 'alpha %g tau %g %s KL' % (alpha, tau, 'reverse' if direction else 'forward')
    print('ce %.6f kl %.6f loss %.6f (reference %.6f %.6f %.6f)' % (got[0], got[1], got[2], float(ce), float(kl), float(loss)))
    report(name + ': ce (rel)', abs(got[0] - float(ce)) / abs(float(ce)), 1e-5)
    report(name + ': kl (rel)', abs(got[1] - float(kl)) / abs(float(kl)), 1e-5)
    report(name + ': loss (rel)', abs(got[2] - float(loss)) / abs(float(loss)), 1e-5)
    grads, _ = torch_ref.read_safetensors(os.path.join(tmp, 'grads.safetensors'))
    worst, worst_name = 0.0, ''
    for n, p in params.items():
        ref = p.grad
        scale = float(ref.abs().max())
        err = float((grads[n] - ref).abs().max()) / (scale if scale > 0 else 1.0)
        if err > worst:
            worst, worst_name = err, n
        if err > 1e-3:
            print('  gradient %s: err %.3g' % (n, err))
    report(name + ': every student gradient, worst %s' % worst_name, worst, 1e-3)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print('test_kd_parity: %d failed' % report.failures)
sys.exit(1 if report.failures else 0)
