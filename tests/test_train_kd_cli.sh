#!/bin/bash
# test_train_kd_cli.sh: `srlm train kd` and `srlm teacher` end to end on tiny models:
#  - a random student distilled (alpha 0) from a briefly SFT-trained teacher lowers its KL to
#    the teacher on held-out text (eval_kl before = the same run at lr 0), forward and reverse;
#  - the run database has ce, kl, loss and eval_kl;
#  - a teacher with another vocabulary (embedding rows, or tokenizer) is refused naming both;
#  - a top-k file: written atomically; with K = V it gives the live teacher's KL; distilling
#    from K = 16 lowers the KL too; files made with other settings or not top-k files are refused.
# Usage: test_train_kd_cli.sh SRLM SOURCE_ROOT
set -u
srlm=$(realpath "$1"); root=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
"$srlm" init --config "$root/models/tiny.json" --out stu --seed 1 --dtype f32 >/dev/null || exit 1
"$srlm" init --config "$root/models/tiny.json" --out tea0 --seed 2 --dtype f32 >/dev/null || exit 1
python3 - <<'PY'
import json, random
r = random.Random(1)
for name, n in (('sft.jsonl', 64), ('held.jsonl', 16)):
    with open(name, 'w') as f:
        for i in range(n):
            a, b = r.randint(1, 60), r.randint(1, 60)
            f.write(json.dumps({'prompt': 'add %d and %d: ' % (a, b), 'completion': str(a + b) + ' is the sum'}) + '\n')
PY
common=(--data sft.jsonl --eval-data held.jsonl --seq 32 --batch 4 --seed 5)
"$srlm" train sft -m tea0 --out T --steps 30 --lr 3e-3 "${common[@]}" 2>T.log || { cat T.log; exit 1; }
tea=T/step-30
kl_at() { sqlite3 "$1/run.db" "select printf('%.6f', value) from metrics where name='eval_kl' order by step desc limit 1"; }
less() { python3 -c "import sys; sys.exit(0 if $1 < $3 * $2 else 1)"; }
# forward KL (default), alpha 0: distillation alone
"$srlm" train kd -m stu --teacher $tea --kd-alpha 0 --out B0 --steps 1 --lr 0 --eval-every 1 "${common[@]}" 2>B0.log || { cat B0.log; exit 1; }
"$srlm" train kd -m stu --teacher $tea --kd-alpha 0 --out B1 --steps 40 --lr 3e-3 --eval-every 40 "${common[@]}" 2>B1.log || { cat B1.log; exit 1; }
k0=$(kl_at B0); k1=$(kl_at B1)
less "$k1" "$k0" 0.2 && ok "forward KL(teacher||student) on held-out text: $k0 -> $k1 after 40 steps" || bad "forward KL $k0 -> $k1"
n=$(sqlite3 B1/run.db "select count(distinct name) from metrics where name in ('ce','kl','loss','eval_kl','eval_loss')")
[[ $n -eq 5 ]] && ok "run database has ce, kl, loss, eval_kl, eval_loss" || bad "run database has $n of the kd metrics"
grep -q "distillation (f16 teacher)" B1.log && ok "memory plan includes the teacher: $(grep distillation B1.log | tr -s ' ')" || bad "no teacher in the plan"
# reverse KL with a CE share and a temperature
"$srlm" train kd -m stu --teacher $tea --kd-reverse --kd-alpha 0.2 --kd-temp 2 --out R0 --steps 1 --lr 0 --eval-every 1 "${common[@]}" 2>R0.log || { cat R0.log; exit 1; }
"$srlm" train kd -m stu --teacher $tea --kd-reverse --kd-alpha 0.2 --kd-temp 2 --out R1 --steps 40 --lr 3e-3 --eval-every 40 "${common[@]}" 2>R1.log || { cat R1.log; exit 1; }
r0=$(kl_at R0); r1=$(kl_at R1)
less "$r1" "$r0" 0.5 && ok "reverse KL at T=2, alpha 0.2, on held-out text: $r0 -> $r1" || bad "reverse KL $r0 -> $r1"
# --config keys
echo "{\"teacher\": \"$tea\", \"kd_alpha\": 0, \"kd_temp\": 1, \"steps\": 1, \"lr\": 0, \"eval_every\": 1}" > kd.json
"$srlm" train kd -m stu --config kd.json --out C0 "${common[@]}" 2>C0.log && [[ "$(kl_at C0)" == "$k0" ]] \
  && ok "--config keys (teacher, kd_alpha, kd_temp) give the same KL $k0" || { cat C0.log; bad "--config kd"; }
# another vocabulary: embedding rows
python3 -c "import json; c=json.load(open('$root/models/tiny.json')); c['vocab_size']=300; json.dump(c, open('v300.json','w'))"
"$srlm" init --config v300.json --out tea300 --seed 3 --dtype f32 >/dev/null
"$srlm" train kd -m stu --teacher tea300 --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "tea300" err.txt && grep -q "stu" err.txt && grep -q "300" err.txt && grep -q "272" err.txt \
  && ok "other vocabulary refused: $(tail -1 err.txt | head -c 200)" || { bad "vocabulary mismatch (rc $rc)"; cat err.txt; }
# another tokenizer with the same embedding rows
cp -r "$tea" teatok
python3 -c "
import json; t=json.load(open('teatok/tokenizer.json'))
for a in t['added_tokens']:
    if a['id'] == 257: a['content'] = '<|start|>'
json.dump(t, open('teatok/tokenizer.json','w'))"
"$srlm" train kd -m stu --teacher teatok --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "different tokenizers" err.txt && grep -q "teatok" err.txt \
  && ok "other tokenizer refused: $(tail -1 err.txt | head -c 200)" || { bad "tokenizer mismatch (rc $rc)"; cat err.txt; }
"$srlm" train kd -m stu --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -ne 0 ]] && grep -q "teacher" err.txt && ok "kd without a teacher refused" || bad "kd without a teacher (rc $rc)"
# top-k files
tk=(--data sft.jsonl --eval-data held.jsonl --seq 32 --seed 5)
"$srlm" teacher -m $tea "${tk[@]}" --topk 272 --out all.topk 2>tf.log || { cat tf.log; exit 1; }
[[ -s all.topk && ! -e all.topk.tmp ]] && ok "srlm teacher: $(tail -1 tf.log)" || bad "teacher file not written atomically"
"$srlm" train kd -m stu --teacher-logits all.topk --kd-alpha 0 --out F0 --steps 1 --lr 0 --eval-every 1 "${common[@]}" 2>F0.log || { cat F0.log; exit 1; }
f0=$(kl_at F0)
python3 -c "import sys; sys.exit(0 if abs($f0 - $k0) <= 1e-3 * $k0 else 1)" \
  && ok "top-k file with K = V: KL $f0 = the live teacher's $k0 (within 1e-3)" || bad "K = V file KL $f0 vs live $k0"
"$srlm" teacher -m $tea "${tk[@]}" --topk 16 --out t16.topk 2>/dev/null || bad "srlm teacher --topk 16"
"$srlm" train kd -m stu --teacher-logits t16.topk --kd-alpha 0 --out G0 --steps 1 --lr 0 --eval-every 1 "${common[@]}" 2>G0.log || { cat G0.log; exit 1; }
"$srlm" train kd -m stu --teacher-logits t16.topk --kd-alpha 0 --out G1 --steps 40 --lr 3e-3 --eval-every 40 --pack "${common[@]}" 2>G1.log || { cat G1.log; exit 1; }
g0=$(kl_at G0); g1=$(kl_at G1)
less "$g1" "$g0" 0.2 && ok "top-16 file (packed batches): KL over 16 + rest buckets $g0 -> $g1" || bad "top-16 KL $g0 -> $g1"
"$srlm" train kd -m stu --teacher-logits t16.topk --out X --steps 1 --data sft.jsonl --eval-data held.jsonl --seq 48 --batch 4 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q -- "--seq 32" err.txt && ok "file made with --seq 32 refused at --seq 48: $(tail -1 err.txt | head -c 160)" || { bad "seq mismatch (rc $rc)"; cat err.txt; }
"$srlm" train kd -m stu --teacher-logits t16.topk --kd-temp 2 --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "temperature" err.txt && ok "file at temperature 1 refused with --kd-temp 2" || { bad "temperature mismatch (rc $rc)"; cat err.txt; }
"$srlm" train kd -m stu --teacher-logits t16.topk --out X --steps 1 --data held.jsonl --seq 32 --batch 4 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "samples" err.txt && ok "file of other data refused: $(tail -1 err.txt | head -c 160)" || { bad "data mismatch (rc $rc)"; cat err.txt; }
head -c 100 sft.jsonl > junk.topk
"$srlm" train kd -m stu --teacher-logits junk.topk --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "junk.topk" err.txt && grep -q "magic" err.txt && ok "not a top-k file refused: $(tail -1 err.txt | head -c 160)" || { bad "bad magic (rc $rc)"; cat err.txt; }
head -c 2000 t16.topk > short.topk
"$srlm" train kd -m stu --teacher-logits short.topk --out X --steps 1 "${common[@]}" 2>err.txt; rc=$?
[[ $rc -eq 1 ]] && grep -q "short.topk" err.txt && ok "truncated top-k file refused: $(tail -1 err.txt | head -c 160)" || { bad "truncated file (rc $rc)"; cat err.txt; }
exit $fail
