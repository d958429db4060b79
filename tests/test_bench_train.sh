#!/bin/bash
# test_bench_train.sh: `srlm bench train` runs real training steps on a tiny random model and
# prints every field the issue asks for: tokens/s, the forward / backward / optimizer times,
# device memory (allocated and peak), the memory plan and the fraction of 6*params*tokens/s;
# the loss of the random-token batch goes down over the steps (the steps really train); a
# plan over the budget is refused with the plan; bad sizes are refused. On lavapipe the fraction
# is also given by process CPU time.
# Usage: test_bench_train.sh SRLM SOURCE_ROOT
set -u
srlm=$(realpath "$1"); root=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
"$srlm" init --config "$root/models/tiny.json" --out m --seed 3 --dtype f32 >/dev/null || exit 1
"$srlm" bench train -m m --seq 32 --batch 2 --steps 3 --ref-gflops 10 >out.txt 2>err.txt || { cat out.txt err.txt; exit 1; }
cat out.txt
for field in 'tokens/s' 'forward ' 'backward ' 'optimizer ' 'device memory allocated' 'device memory peak' \
             'memory plan: batch 2 x sequence 32' 'AdamW moments' 'fraction of the bound' 'reference matmul rate .*10.00 GFLOP/s (given)'; do
  grep -q -- "$field" out.txt && ok "prints '$field'" || bad "no '$field' in the output"
done
if grep -q llvmpipe out.txt; then
  grep -q "by CPU time (lavapipe)" out.txt && ok "CPU device: the fraction by process CPU time" || bad "no CPU-time fraction on lavapipe"
fi
python3 - <<'PY' && ok "numbers are positive and consistent" || bad "numbers"
import re, sys
t = open('out.txt').read()
num = lambda k: float(re.search(k + r'\s+([0-9.]+)', t).group(1))
tps, step, f, b, o = num('tokens/s'), num('step time'), num(r'    forward'), num(r'    backward'), num(r'    optimizer')
frac, ref = num('fraction of the bound'), num('reference matmul rate')
params = num('parameters')
gf = float(re.search(r'= ([0-9.]+) GFLOP/s', t).group(1))
ok = tps > 0 and f > 0 and b > 0 and o > 0 and abs(f + b + o - step) < 0.3 and abs(64 / (step / 1e3) - tps) / tps < 0.01
ok = ok and abs(6 * params * tps / 1e9 - gf) < 0.01 + 0.01 * gf and abs(gf / ref - frac) < 0.002
losses = [float(x) for x in re.findall(r'step \d+(?: \(warm-up\))?: loss ([0-9.]+)', t)]
ok = ok and len(losses) == 4 and losses[-1] < losses[0]
print('  tokens/s %g, step %g = %g + %g + %g ms, %g GFLOP/s, fraction %g, losses %s' % (tps, step, f, b, o, gf, frac, losses))
sys.exit(0 if ok else 1)
PY
SRLM_MEM_BUDGET=1M "$srlm" bench train -m m --seq 32 --ref-gflops 10 >/dev/null 2>err.txt
[[ $? -ne 0 ]] && grep -q "memory plan" err.txt && grep -q "does not fit" err.txt && ok "a plan over the budget is refused with the plan" || { cat err.txt; bad "budget refusal"; }
"$srlm" bench train -m m --seq 1 >/dev/null 2>err.txt && bad "--seq 1 accepted" || ok "--seq 1 refused: $(head -1 err.txt)"
"$srlm" bench train --seq 8 >/dev/null 2>err.txt && bad "no model accepted" || ok "no -m refused"
exit $fail
