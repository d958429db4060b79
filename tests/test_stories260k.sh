#!/bin/bash
# test_stories260k.sh: a real pretrained model (Karpathy's stories260K). Greedy generation
# reproduces llama2.c's run.c output byte for byte, and the same weights as an HF folder
# (rotate-half layout, no tokenizer) give the same greedy token ids.
# llama2.c's `-n N` counts positions after BOS, prompt included: srlm's --total-steps N; run.c
# also stops when it samples BOS (id 1): --stop-id 1.
# Usage: test_stories260k.sh SRLM SHARED_DATA
set -u
srlm=$1; data=$2/stories260K
if [[ ! -f $data/stories260K.gguf ]]; then echo "SKIP: $data not found (../shared/data absent)"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if cmp -s "$1" "$2"; then echo "ok   $3"; else echo "FAIL $3"; diff <(head -c 400 "$1") <(head -c 400 "$2") | head -5; fail=1; fi; }
for dtype in f32 f16; do
  "$srlm" generate -m "$data/stories260K.gguf" --temp 0 --total-steps 200 --stop-id 1 --dtype $dtype >"$tmp/a.txt" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
  check "$tmp/a.txt" "$data/expected/run_t0_n200_noprompt.txt" "GGUF, no prompt, 200 steps, $dtype weights"
  "$srlm" generate -m "$data/stories260K.gguf" --temp 0 --total-steps 64 -p "Once upon a time" --stop-id 1 --dtype $dtype >"$tmp/b.txt" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
  check "$tmp/b.txt" "$data/expected/run_t0_n64_prompt_Once_upon_a_time.txt" "GGUF, prompt 'Once upon a time', 64 steps, $dtype weights"
done
"$srlm" generate -m "$data/stories260K.gguf" --ids 1 --temp 0 -n 200 --stop-id 1 --print-ids --dtype f32 >"$tmp/gguf.ids" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
"$srlm" generate -m "$data/hf" --ids 1 --temp 0 -n 200 --stop-id 1 --dtype f32 >"$tmp/hf.ids" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
check "$tmp/hf.ids" "$tmp/gguf.ids" "HF folder (rotate-half) greedy ids equal the GGUF ids (200 tokens)"
# srlm forward on the HF folder: argmax of every position follows the same ids
"$srlm" forward -m "$data/hf" --ids "$(cut -c1- "$tmp/hf.ids" | head -c 2000 | cut -d, -f1-64)" --out "$tmp/l.f32" --dtype f32 >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
python3 - "$tmp/l.f32" "$tmp/hf.ids" <<'PY' || fail=1
import sys, struct
ids = [int(x) for x in open(sys.argv[2]).read().strip().split(',')][:64]
data = open(sys.argv[1], 'rb').read()
V = len(data) // 4 // 64
vals = struct.unpack('<%df' % (64 * V), data)
bad = sum(1 for t in range(63) if max(range(V), key=lambda j: vals[t * V + j]) != ids[t + 1])
print(('ok  ' if bad == 0 else 'FAIL') + ' srlm forward on the HF folder: argmax of 63 positions follows the greedy ids (%d differ)' % bad)
sys.exit(1 if bad else 0)
PY
exit $fail
