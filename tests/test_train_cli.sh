#!/bin/bash
# test_train_cli.sh: `srlm train` end to end on a tiny random model:
#  - SFT lowers the loss; the run database has the metrics; `srlm plot` draws them;
#  - resume: 10 steps, stop, --resume 10 more == 20 uninterrupted steps, bit for bit;
#  - a checkpoint is an HF folder the PyTorch reference reads (format pt) with the same logits;
#  - kill -9 during saves leaves `latest` naming a complete checkpoint;
#  - MEAP pre-training runs end to end; bad data names the line.
# Usage: test_train_cli.sh SRLM SOURCE_ROOT
set -u
srlm=$(realpath "$1"); root=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
"$srlm" init --config "$root/models/tiny.json" --out m --seed 1 --dtype f32 >/dev/null || exit 1
python3 - <<'PY'
import json, random
r = random.Random(1)
with open('sft.jsonl', 'w') as f:
    for i in range(48):
        a, b = r.randint(1, 60), r.randint(1, 60)
        f.write(json.dumps({'prompt': 'add %d and %d: ' % (a, b), 'completion': str(a + b)}) + '\n')
with open('text.jsonl', 'w') as f:
    for i in range(24):
        f.write(json.dumps({'text': ' '.join(r.choice(['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran']) for _ in range(30))}) + '\n')
PY
common=(--seq 32 --batch 4 --lr 3e-3 --seed 5 --warmup 2)
"$srlm" train sft -m m --data sft.jsonl --out A --steps 20 --save-every 10 "${common[@]}" 2>A.log || { cat A.log; exit 1; }
first=$(sqlite3 A/run.db "select value from metrics where name='loss' order by step limit 1")
last=$(sqlite3 A/run.db "select value from metrics where name='loss' order by step desc limit 1")
python3 -c "import sys; sys.exit(0 if $last < 0.7 * $first else 1)" && ok "SFT lowers the loss ($first -> $last)" || bad "SFT loss $first -> $last"
n=$(sqlite3 A/run.db "select count(distinct name) from metrics")
[[ $n -ge 5 ]] && ok "run database: $n metrics (loss, lr, grad_norm, tokens_per_s, device memory)" || bad "run database has $n metrics"
"$srlm" plot A/run.db --metric loss --metric lr --out loss.png && [[ -s loss.png ]] && ok "srlm plot wrote loss.png" || bad "srlm plot"
# resume, bit for bit
"$srlm" train sft -m m --data sft.jsonl --out B --steps 20 --save-every 10 --stop-after 10 "${common[@]}" 2>B.log || { cat B.log; exit 1; }
"$srlm" train sft -m m --data sft.jsonl --out B --steps 20 --save-every 10 --resume B "${common[@]}" 2>B2.log || { cat B2.log; exit 1; }
a=$(sqlite3 A/run.db "select printf('%.17g', value) from metrics where name='loss' order by step")
b=$(sqlite3 B/run.db "select printf('%.17g', value) from metrics where name='loss' order by run, step")
[[ "$a" == "$b" && -n $a ]] && ok "resumed run's 20 losses equal the uninterrupted run bit for bit" || { bad "resume differs"; paste <(echo "$a") <(echo "$b") | head -25; }
cmp -s A/step-20/model.safetensors B/step-20/model.safetensors && ok "resumed weights identical" || bad "resumed weights differ"
# the checkpoint as an HF folder: the independent reference reads it and agrees on logits
"$srlm" forward -m A/step-20 --ids 1,2,3,4,5,6,7,8 --out s.f32 --dtype f32 >/dev/null 2>&1 || bad "srlm forward on a checkpoint"
/usr/bin/python3 "$root/tests/ref/torch_ref.py" A/step-20 --ids 1,2,3,4,5,6,7,8 --out r.f32 --kv f16 >/dev/null 2>err.txt || { cat err.txt; bad "reference cannot read the checkpoint"; }
python3 - <<'PY' && ok "checkpoint logits equal the PyTorch reference's (format pt header)" || bad "checkpoint logits"
import struct, sys
a = open('s.f32', 'rb').read(); b = open('r.f32', 'rb').read()
x = struct.unpack('<%df' % (len(a) // 4), a); y = struct.unpack('<%df' % (len(b) // 4), b)
err = max(abs(p - q) for p, q in zip(x, y)) / max(abs(q) for q in y)
print('  checkpoint logits rel err %.3g' % err); sys.exit(0 if err < 1e-4 else 1)
PY
"$srlm" train sft -m m --data sft.jsonl --out C --steps 3 --save-dtype bf16 "${common[@]}" 2>/dev/null
python3 -c "
import json,struct; d=open('C/step-3/model.safetensors','rb').read(); n=struct.unpack('<Q',d[:8])[0]; h=json.loads(d[8:8+n])
import sys; sys.exit(0 if h['__metadata__']['format']=='pt' and h['model.embed_tokens.weight']['dtype']=='BF16' else 1)" \
  && grep -q bfloat16 C/step-3/config.json && ok "--save-dtype bf16: BF16 tensors, torch_dtype bfloat16" || bad "--save-dtype bf16"
# kill -9 during saves: latest always names a complete checkpoint
for i in 1 2 3; do
  "$srlm" train sft -m m --data sft.jsonl --out K --steps 400 --save-every 1 "${common[@]}" 2>/dev/null &
  pid=$!
  # kill after the first checkpoint exists (a loaded machine may take long to get there), at a
  # random moment of the save-every-step loop
  for _ in $(seq 600); do [[ -f K/latest ]] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  sleep "0.$((RANDOM % 9 + 1))"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  if [[ -f K/latest ]]; then
    s=$(cat K/latest)
    if [[ -f K/$s/state.json && -f K/$s/optimizer/adam_v.safetensors ]] && "$srlm" forward -m "K/$s" --ids 1,2 --out k.f32 >/dev/null 2>&1; then
      ok "kill -9 #$i: latest = $s is complete and loads"
    else bad "kill -9 #$i: latest = $s is incomplete"; fi
  else ok "kill -9 #$i: killed before the first checkpoint"; fi
done
"$srlm" train sft -m m --data sft.jsonl --out K --steps 400 --resume K --stop-after 1 "${common[@]}" 2>K.log && ok "resume after kill -9" || { cat K.log; bad "resume after kill -9"; }
# MEAP pre-training end to end, and SFT MEAP
"$srlm" train pretrain -m m --data text.jsonl --out P --steps 4 --meap 0.15 "${common[@]}" 2>P.log && ok "MEAP pre-training (0.15) trains" || { cat P.log; bad "MEAP pretrain"; }
"$srlm" train sft -m m --data sft.jsonl --out Q --steps 2 --meap 0.10 --meap-layout concat "${common[@]}" 2>Q.log && ok "MEAP SFT (concat) trains" || { cat Q.log; bad "MEAP sft"; }
# bad data
printf '{"prompt": "a", "completion": "b"}\n{"prompt": oops}\n' > badline.jsonl
"$srlm" train sft -m m --data badline.jsonl --out X --steps 1 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "badline.jsonl:2" err.txt && ok "malformed line: $(head -c 120 err.txt)" || { bad "malformed line (rc $rc)"; cat err.txt; }
: > empty.jsonl
"$srlm" train sft -m m --data empty.jsonl --out X --steps 1 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -qi "empty" err.txt && ok "empty dataset: $(head -c 120 err.txt)" || { bad "empty dataset (rc $rc)"; cat err.txt; }
"$srlm" train sft -m m --data sft.jsonl --out X --steps 1 --mem-budget 1M 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "plan" err.txt && ok "a plan that does not fit is refused with the plan" || { bad "plan refusal (rc $rc)"; cat err.txt; }
exit $fail
