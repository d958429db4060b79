#!/usr/bin/python3
"""test_grpo_parity.py: the gradient of srlm's GRPO loss (srlm_trainer_accumulate) against
PyTorch autograd in float64 (the independent model of tests/ref/torch_ref.py) on a random
model of a preset. The loss written out independently of srlm (DeepSeekMath's GRPO with the
PPO clip and the k3 KL estimator; see srlm.h "In-memory training steps"):
  ratio = exp(lp - old)   (without old log-probs: exp(lp - lp.detach()), value 1)
  loss  = sum_t w_t * ( -min(ratio*A, clamp(ratio, 1-eps, 1+eps)*A)
                        + beta * (exp(ref - lp) - (ref - lp) - 1) )
Checks, for "full" (old and reference log-probs, two passes) and "plain" (advantages only):
  srlm's log-probs                       max |d| <= 1e-5
  the loss and its pg / kl parts         |d| <= 1e-5 * sum of |terms|
  the clipped fraction                   equal
  every parameter gradient               max |srlm - ref| / max |ref| <= 1e-3 per tensor
Usage: test_grpo_parity.py GRPO_DUMP SRLM SOURCE_ROOT PRESET ROWS T"""
import json, os, shutil, sys, tempfile
import torch

dump, srlm, root, preset, R, T = sys.argv[1:7]
R, T = int(R), int(T)
sys.path.insert(0, os.path.join(root, 'tests', 'ref'))
import torch_ref  # noqa: E402
from parity_util import Report, run  # noqa: E402

report = Report(64)


tmp = tempfile.mkdtemp(prefix='srlm-grpo-parity-')
try:
    mdir = os.path.join(tmp, 'model')
    run([srlm, 'init', '--config', os.path.join(root, 'models', preset + '.json'), '--out', mdir, '--seed', '33', '--dtype', 'f32'])
    cfg, w, _ = torch_ref.load_model(mdir)
    for mode in ['full', 'plain']:
        out = os.path.join(tmp, mode)
        os.mkdir(out)
        run([dump, mdir, out, str(R), str(T), mode, '7'])
        b = json.load(open(os.path.join(out, 'batch.json')))
        t64 = lambda k: torch.tensor(b[k], dtype=torch.float64).reshape(R, T)
        ids = torch.tensor(b['ids']).reshape(R, T)
        tg = torch.tensor(b['targets']).reshape(R, T)
        wt, adv = t64('weights'), t64('advantages')
        old = t64('old_logprob') if b['old_logprob'] is not None else None
        ref = t64('ref_logprob') if b['ref_logprob'] is not None else None
        eps, beta = b['clip_eps'], b['kl_beta']
        params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
        total = torch.zeros((), dtype=torch.float64)
        pg_sum, kl_sum, absum = 0.0, 0.0, 0.0
        n_live, n_clip, lp_err = 0, 0, 0.0
        for r in range(R):
            logits = torch_ref.forward(cfg, params, ids[r].tolist())
            logp = torch.log_softmax(logits, dim=-1)
            valid = tg[r] >= 0
            pos = torch.arange(T)[valid]
            lp = logp[pos, tg[r][valid]]
            lp_err = max(lp_err, float((lp.detach() - torch.tensor(b['logprob'], dtype=torch.float64).reshape(R, T)[r][valid]).abs().max()))
            A, wr = adv[r][valid], wt[r][valid]
            o = old[r][valid] if old is not None else lp.detach()
            ratio = torch.exp(lp - o)
            pg = -torch.min(ratio * A, torch.clamp(ratio, 1 - eps, 1 + eps) * A)
            if ref is not None:
                d = ref[r][valid] - lp
                kl = torch.exp(d) - d - 1
            else:
                kl = torch.zeros_like(lp)
            term = wr * (pg + beta * kl)
            total = total + term.sum()
            pg_sum += float((wr * pg).sum())
            kl_sum += float((wr * kl).sum())
            absum += float(term.abs().sum())
            live = wr != 0
            rd = ratio.detach()
            clipped = torch.where(A >= 0, rd > 1 + eps, rd < 1 - eps) & live
            n_live += int(live.sum())
            n_clip += int(clipped.sum())
        total.backward()
        report('%s: per-token log-probs (max abs)' % mode, lp_err, 1e-5)
        report('%s: loss %.6g vs %.6g (abs / sum|terms|)' % (mode, b['loss'], float(total)), abs(b['loss'] - float(total)) / absum, 1e-5)
        report('%s: pg part (abs / sum|terms|)' % mode, abs(b['pg_loss'] - pg_sum) / absum, 1e-5)
        report('%s: kl part (abs / sum|terms|)' % mode, abs(b['kl'] - kl_sum) / absum, 1e-5)
        frac = n_clip / n_live if n_live else 0.0
        report('%s: clipped fraction %.4f vs %.4f' % (mode, b['clip_fraction'], frac), abs(b['clip_fraction'] - frac), 1e-12)
        if mode == 'full' and not (0 < frac < 0.9):
            print('the full batch should clip some tokens, not all: %.3f FAIL' % frac)
            report.failures += 1
        grads, _ = torch_ref.read_safetensors(os.path.join(out, 'grads.safetensors'))
        worst, worst_name = 0.0, ''
        for name, p in params.items():
            scale = float(p.grad.abs().max())
            err = float((grads[name] - p.grad).abs().max()) / (scale if scale > 0 else 1.0)
            if err > worst:
                worst, worst_name = err, name
            if err > 1e-3:
                print('  gradient %s: err %.3g' % (name, err))
        report('%s: every parameter gradient, worst %s' % (mode, worst_name), worst, 1e-3)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print('test_grpo_parity %s: %d failed' % (preset, report.failures))
sys.exit(1 if report.failures else 0)
