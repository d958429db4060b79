#!/usr/bin/env bash
# test_cli_sqlloop.sh: `srlm sql`, `srlm eval -m` and `srlm bench tree` from the outside, on a
# tiny random model over a real Spider database: forced traces (the model's text scripted,
# queries really run), a tree with a vote, sampled garbage that never closes a tag, bad input.
# Usage: test_cli_sqlloop.sh PATH/TO/srlm SOURCE_ROOT
set -u
srlm=$1
src=$2
shared=${SRLM_SHARED_DATA:-}
fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
dbdir=$shared/spider/database
db=$dbdir/concert_singer/concert_singer.sqlite
if [ -z "$shared" ] || [ ! -r "$db" ]; then
    echo "SKIP: Spider databases not found under SRLM_SHARED_DATA"
    exit 77
fi
tmp=$(mktemp -d /tmp/srlm_cli_sqlloop_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$srlm" init --config "$src/models/tiny.json" --out "$tmp/tiny" --seed 3 >/dev/null || { echo "FAIL init"; exit 1; }
m=$tmp/tiny

# --- forced trace: one intermediate query, then the final SQL ---
printf 'The question asks for singers.</think>\n<intermediate_sql>SELECT Name, Age FROM singer ORDER BY Age</intermediate_sql><think>Count them.</think>\n<final_sql>SELECT count(*)\n FROM singer</final_sql>' >"$tmp/t1"
"$srlm" sql -m "$m" --db "$db" --force "$tmp/t1" "How many singers do we have?" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "sql exits 0" $rc
grep -q "^--- query 1: SELECT Name, Age FROM singer ORDER BY Age" "$tmp/out"; check "sql prints the executed query" $?
grep -q "^Tribal King *| 25" "$tmp/out"; check "sql prints the query's result" $?
grep -q "^<result>" "$tmp/out" && grep -q "^\.\.\. (6 rows in total)" "$tmp/out"; check "reasoning shows the inserted result" $?
grep -A1 "^=== final SQL ===" "$tmp/out" | tail -n 1 | grep -qx "SELECT count(\*) FROM singer"; check "final SQL" $?
grep -A4 "^=== result ===" "$tmp/out" | grep -qx "6"; check "final result table" $?
grep -q "finish: final, format ok" "$tmp/out"; check "finish and format" $?

# --- tree: two traces share the first query, then answer 6, 6 -> vote 2 of 2 / 6 vs 5 ---
printf 'Look first.</think>\n<intermediate_sql>SELECT count(*) FROM singer</intermediate_sql><think>six</think><final_sql>SELECT count(*) FROM singer</final_sql>' >"$tmp/a"
printf 'Look first.</think>\n<intermediate_sql>SELECT count(*) FROM singer</intermediate_sql><think>five?</think><final_sql>SELECT 5</final_sql>' >"$tmp/b"
printf 'Look first.</think>\n<intermediate_sql>SELECT count(*) FROM singer</intermediate_sql><think>six again</think><final_sql>SELECT 6</final_sql>' >"$tmp/c"
"$srlm" sql -m "$m" --db "$db" --tree 3 --max-leaves 3 --force "$tmp/b" --force "$tmp/a" --force "$tmp/c" --all "How many singers?" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "tree sql exits 0" $rc
[ "$(grep -c '^=== leaf' "$tmp/out")" -eq 3 ]; check "tree: 3 leaves printed with --all" $?
grep -q "^chosen: leaf 1 with 2 vote(s)" "$tmp/out"; check "tree: vote picks the first of the largest group" $?
grep -A1 "^=== final SQL ===" "$tmp/out" | tail -n 1 | grep -qx "SELECT count(\*) FROM singer"; check "tree: voted final SQL" $?
grep -q "3 leaves, .* 4 queries" "$tmp/err"; check "tree: shared query ran once (1 + 3 finals = 4 queries)" $?

# --- sampled random model: never closes a tag ---
"$srlm" sql -m "$m" --db "$db" -n 12 --votes 2 --seed 1 "How many singers?" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "sampled sql exits 0" $rc
grep -q "finish: length\|finish: stop-id" "$tmp/out" && grep -A1 "^=== final SQL ===" "$tmp/out" | tail -n 1 | grep -qx "(none)"
check "sampled: a format failure, no final SQL" $?
printf '<intermediate_sql>SELECT Name FROM singer' >"$tmp/open"
"$srlm" sql -m "$m" --db "$db" --force "$tmp/open" "q" >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "finish: length, format invalid" "$tmp/out"; check "unclosed tag recorded as a format failure" $?

# --- bad input ---
"$srlm" sql -m "$m" --db "$tmp/missing.sqlite" "q" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.sqlite" "$tmp/err"; check "missing database: exit 1, named" $?
"$srlm" sql -m "$m" --db "$db" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check "no question: usage, exit 2" $?
"$srlm" sql -m "$m" --db "$db" --mode nope "q" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check "bad --mode: exit 2" $?

# --- eval -m on 3 Spider questions ---
python3 - "$shared/spider/dev_5db.json" "$tmp/d3.json" <<'PY'
import json, sys
json.dump(json.load(open(sys.argv[1]))[:3], open(sys.argv[2], 'w'))
PY
"$srlm" eval -m "$m" --data "$tmp/d3.json" --db-dir "$dbdir" --out "$tmp/ev" -n 8 --votes 2 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "eval -m exits 0" $rc
tail -n 1 "$tmp/out" | grep -qx "execution accuracy: 0.0000 (0/3)"; check "eval -m accuracy line" $?
grep -q "eval: 3/3 (100.0%)" "$tmp/err"; check "eval -m progress with ETA" $?
python3 - "$tmp/ev/report.json" <<'PY'; check "eval -m report: 3 verdicts" $?
import json, sys
r = json.load(open(sys.argv[1]))
assert r["count"] == 3 and len(r["verdicts"]) == 3, r
PY
"$srlm" eval -m "$m" --predictions "$tmp/x" --data "$tmp/d3.json" --db-dir "$dbdir" --out "$tmp/ev2" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check "eval: -m and --predictions together refused" $?

# --- bench tree ---
"$srlm" bench tree -m "$m" --leaves 4 --half 16 --repeats 1 >"$tmp/out" 2>&1; rc=$?
check "bench tree exits 0" $rc
ratio=$(sed -n 's/.*decoded tokens \([0-9.]*\).*/\1/p' "$tmp/out")
python3 -c "import sys; sys.exit(0 if 0 < float('$ratio') <= 0.75 else 1)" 2>/dev/null; check "bench tree: tree decodes fewer tokens ($ratio of linear)" $?
cat "$tmp/out"
exit $fail
