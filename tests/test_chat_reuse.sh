#!/bin/bash
# test_chat_reuse.sh: `srlm chat` keeps the conversation's KV cache across turns and prefills
# only what is new. On a tiny random model, the reply token ids and the printed text of every
# turn equal those of --no-kv-reuse (the whole conversation prefilled again each turn), for
# greedy decoding with f32 and f16 weights and for sampling (the random stream is keyed on
# positions, so it must see the same history); turns 2+ must actually reuse cached tokens,
# and a /reset starts from an empty cache.
# Usage: test_chat_reuse.sh SRLM SOURCE_ROOT
set -u
srlm=$1; root=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$srlm" init --config "$root/models/tiny.json" --out "$tmp/m" --seed 3 >/dev/null || exit 1
printf 'hello there\nwhat is 2+2?\ntell me more\n/reset\nagain, from the start\nand once more\n' >"$tmp/in.txt"
fail=0
run() { # mode-name, args...
  local name=$1; shift
  "$srlm" chat -m "$tmp/m" -n 30 --verbose "$@" <"$tmp/in.txt" >"$tmp/a.out" 2>"$tmp/a.err" || { cat "$tmp/a.err"; exit 1; }
  "$srlm" chat -m "$tmp/m" -n 30 --verbose --no-kv-reuse "$@" <"$tmp/in.txt" >"$tmp/b.out" 2>"$tmp/b.err" || { cat "$tmp/b.err"; exit 1; }
  local turns reused ids text
  turns=$(grep -c 'reused from' "$tmp/a.err")
  # turns 2, 3 and 5 follow a turn of the same conversation; 1 and 4 (after /reset) do not
  reused=$(grep 'reused from' "$tmp/a.err" | awk '{print $6}' | tr '\n' ' ')
  if [[ $turns -ne 5 ]]; then echo "FAIL $name: $turns turns, want 5"; fail=1; return; fi
  if diff <(grep 'reply ids' "$tmp/a.err") <(grep 'reply ids' "$tmp/b.err") >/dev/null; then ids=same; else ids=DIFFERENT; fi
  if cmp -s "$tmp/a.out" "$tmp/b.out"; then text=same; else text=DIFFERENT; fi
  read -r r1 r2 r3 r4 r5 <<<"$reused"
  local norefill
  norefill=$(grep 'reused from' "$tmp/b.err" | awk '{s += $6} END {print s + 0}')
  if [[ $ids == same && $text == same && $r1 -eq 0 && $r2 -gt 0 && $r3 -gt $r2 && $r4 -eq 0 && $r5 -gt 0 && $norefill -eq 0 ]]; then
    echo "ok   $name: reply ids and text equal re-prefill; reused tokens per turn: $reused"
  else
    echo "FAIL $name: ids $ids, text $text, reused per turn: $reused (re-prefill run reused $norefill)"
    diff <(grep 'reply ids' "$tmp/a.err") <(grep 'reply ids' "$tmp/b.err") | head -6
    fail=1
  fi
}
run "greedy, f32 weights (f32 KV)" --temp 0 --dtype f32
run "greedy, f16 weights (f16 KV)" --temp 0 --dtype f16
run "sampled (T 0.8, top-k 20), f16" --temp 0.8 --top-k 20 --seed 5
run "sampled (T 1, top-p 0.9), f32" --temp 1 --top-p 0.9 --seed 9 --dtype f32
exit $fail
