#!/bin/bash
# test_cli_errors.sh: bad input gets a clear error naming the file, tensor or position, exit
# code 1 (2 for usage errors), and no crash (no signal, no sanitizer report).
# Usage: test_cli_errors.sh SRLM SOURCE_ROOT
set -u
srlm=$1; root=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# expect CODE NEEDLE -- command...
expect() {
  local code=$1 needle=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [[ $rc -ne $code ]] || ! grep -qF -- "$needle" "$tmp/err" || grep -q "Sanitizer\|runtime error" "$tmp/err"; then
    echo "FAIL (rc $rc, want $code, needle '$needle'): $*"; sed 's/^/    /' "$tmp/err" | head -5; fail=1
  else
    echo "ok   rc $rc: $(head -c 160 "$tmp/err" | tr '\n' ' ')"
  fi
}
"$srlm" init --config "$root/models/tiny.json" --out "$tmp/tiny" --seed 3 --dtype f32 >/dev/null || exit 1
expect 1 "nonexistent" -- "$srlm" generate -m "$tmp/nonexistent" -p hi -n 2
cp -r "$tmp/tiny" "$tmp/trunc"; truncate -s 5000 "$tmp/trunc/model.safetensors"
expect 1 "model.safetensors" -- "$srlm" generate -m "$tmp/trunc" -p hi -n 2
cp -r "$tmp/tiny" "$tmp/hdr"; printf '\xff\xff\xff\xff\xff\xff\x00\x00' | dd of="$tmp/hdr/model.safetensors" conv=notrunc status=none
expect 1 "model.safetensors" -- "$srlm" forward -m "$tmp/hdr" --ids 1,2 --out "$tmp/x.f32"
cp -r "$tmp/tiny" "$tmp/arch"; sed -i 's/Qwen2ForCausalLM/MambaForCausalLM/' "$tmp/arch/config.json"
expect 1 "MambaForCausalLM" -- "$srlm" generate -m "$tmp/arch" -p hi -n 2
cp -r "$tmp/tiny" "$tmp/shape"; sed -i -E "s/(\"intermediate_size\":[[:space:]]*)176/\1180/" "$tmp/shape/config.json"
expect 1 "mlp" -- "$srlm" generate -m "$tmp/shape" -p hi -n 2
cp -r "$tmp/tiny" "$tmp/notok"; rm "$tmp/notok/tokenizer.json"
expect 1 "tokenizer" -- "$srlm" generate -m "$tmp/notok" -p hi -n 2
expect 1 "byte" -- "$srlm" generate -m "$tmp/tiny" -p "$(printf 'ok \xc3\x28 bad')" -n 2
expect 1 "context" -- "$srlm" generate -m "$tmp/tiny" -p "a prompt that is longer than the context" --ctx 8 -n 2
expect 1 "vocabulary" -- "$srlm" forward -m "$tmp/tiny" --ids 1,99999 --out "$tmp/x.f32"
[[ -e $tmp/x.f32 ]] && { echo "FAIL: a failed forward left $tmp/x.f32"; fail=1; }
expect 2 "expects token ids" -- "$srlm" forward -m "$tmp/tiny" --ids 1,x --out "$tmp/x.f32"
expect 2 "unknown" -- "$srlm" generate -m "$tmp/tiny" --bogus
exit $fail
