#!/usr/bin/python3
"""test_train_parity.py: srlm's training step against PyTorch autograd in float64 (the
independent reference of tests/ref/torch_ref.py) on a random model of a preset:
  loss of the first step                 within 1e-5 relative
  every parameter gradient               max |srlm - ref| / max |ref| <= 1e-3 per tensor
  10 AdamW steps (torch.optim.AdamW, decay on matrices only)   losses within 1e-4 relative
and one step run twice gives bit-identical parameters (train_dump --determinism).
Usage: test_train_parity.py TRAIN_DUMP SRLM SOURCE_ROOT PRESET B T [--recompute] [--lr LR]
The learning rate must keep the loss away from 0 over the 10 steps: a loss driven to ~0.004
(the full-vocabulary shape memorises a 16-token batch at lr 1e-3) makes the relative
comparison measure rounding noise; the full-size run uses the papers' SFT rate 4e-5."""
import json, os, shutil, sys, tempfile
import numpy as np
import torch

dump, srlm, root, preset, B, T = sys.argv[1:7]
B, T = int(B), int(T)
extra = sys.argv[7:]
LR_ARG = None
if '--lr' in extra:
    i = extra.index('--lr')
    LR_ARG = float(extra[i + 1])
    del extra[i:i + 2]
sys.path.insert(0, os.path.join(root, 'tests', 'ref'))
import torch_ref  # noqa: E402
from parity_util import Report, run  # noqa: E402

STEPS, LR, SEED = 10, 1e-3, 99
if LR_ARG is not None:
    LR = LR_ARG
report = Report(60)


tmp = tempfile.mkdtemp(prefix='srlm-train-parity-')
try:
    mdir = os.path.join(tmp, 'model')
    tok = os.path.join(os.environ.get('SRLM_SHARED_DATA', ''), 'qwen-tokenizer')
    cmd = [srlm, 'init', '--config', os.path.join(root, 'models', preset + '.json'), '--out', mdir, '--seed', '21', '--dtype', 'f32']
    if 'qwen2.5' in preset:
        cmd[-1] = 'f16'  # full vocabulary: half the bytes; training still runs in f32 from these values
        cmd += ['--tokenizer', tok]
    run(cmd)
    run([dump, mdir, tmp, str(B), str(T), str(STEPS), str(LR), str(SEED)] + extra)
    run([dump, mdir, tmp, str(B), str(T), '1', str(LR), str(SEED), '--determinism'] + extra)
    batch = json.load(open(os.path.join(tmp, 'batch.json')))
    ids = np.array(batch['ids']).reshape(B, T)
    tg = torch.tensor(batch['targets']).reshape(B, T)
    wt = torch.tensor(batch['weights'], dtype=torch.float64).reshape(B, T)
    cfg, w, _ = torch_ref.load_model(mdir)
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}

    def loss_fn():
        total = torch.zeros((), dtype=torch.float64)
        for b in range(B):
            logits = torch_ref.forward(cfg, params, ids[b].tolist())
            logp = torch.log_softmax(logits, dim=-1)
            valid = tg[b] >= 0
            picked = logp[torch.arange(T)[valid], tg[b][valid]]
            total = total - (wt[b][valid] * picked).sum()
        return total

    loss = loss_fn()
    loss.backward()
    losses = [float(x) for x in open(os.path.join(tmp, 'losses.txt')).read().split()]
    report('%s B=%d T=%d first-step loss (rel)' % (preset, B, T), abs(losses[0] - float(loss)) / abs(float(loss)), 1e-5)
    grads, _ = torch_ref.read_safetensors(os.path.join(tmp, 'grads.safetensors'))
    worst, worst_name = 0.0, ''
    for name, p in params.items():
        ref = p.grad
        got = grads[name]
        scale = float(ref.abs().max())
        err = float((got - ref).abs().max()) / (scale if scale > 0 else 1.0)
        if err > worst:
            worst, worst_name = err, name
        if err > 1e-3:
            print('  gradient %s: err %.3g' % (name, err))
    report('every parameter gradient, worst %s' % worst_name, worst, 1e-3)
    decay = [p for n, p in params.items() if p.dim() == 2]
    nodecay = [p for n, p in params.items() if p.dim() != 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': nodecay, 'weight_decay': 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=1e-8)
    ref_losses = []
    for step in range(STEPS):
        opt.zero_grad()
        l = loss_fn()
        ref_losses.append(float(l))
        l.backward()
        opt.step()
    err = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
    print('losses srlm: ' + ' '.join('%.6f' % x for x in losses))
    print('losses ref:  ' + ' '.join('%.6f' % x for x in ref_losses))
    report('%d AdamW steps, losses (max rel)' % STEPS, err, 1e-4)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print('test_train_parity %s: %d failed' % (preset, report.failures))
sys.exit(1 if report.failures else 0)
