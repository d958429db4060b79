#!/usr/bin/env bash
# cli_sql.sh: `srlm query` and `srlm eval` from the outside: exit codes, what they print, the
# final accuracy line, the files in --out. Usage: cli_sql.sh PATH/TO/srlm
set -u
srlm=$1
shared=${SRLM_SHARED_DATA:-}
src=${SRLM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
check() { # check NAME CONDITION-STATUS
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
db=$shared/spider/database/concert_singer/concert_singer.sqlite
if [ -z "$shared" ] || [ ! -r "$db" ]; then
    echo "SKIP: Spider databases not found under SRLM_SHARED_DATA"
    exit 77
fi
tmp=$(mktemp -d /tmp/srlm_cli_sql_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# --- query ---
out=$("$srlm" query --db "$db" "SELECT Name, Age FROM singer ORDER BY Age LIMIT 2"); rc=$?
check "query exits 0 for a result" $rc
echo "$out" | grep -q "^Tribal King *| 25" ; check "query prints the table" $?
echo "$out" | tail -n 1 | grep -qx "(2 rows)"; check "query prints the row count" $?
out=$("$srlm" query --feedback --db "$db" "SELECT Name FROM singer ORDER BY Singer_ID"); rc=$?
check "query --feedback exits 0" $rc
[ "$out" = "$(printf 'Name\nJoe Sharp\nTimbaland\nJustin Brown\n... (6 rows in total)')" ]; check "feedback text is what the model sees" $?
out=$("$srlm" query --feedback --db "$db" "SELECT nope FROM singer"); rc=$?
[ $rc -ne 0 ]; check "failed statement exits non-zero ($rc)" $?
[ "$out" = "error: no such column: nope" ]; check "feedback error text" $?
"$srlm" query --db "$db" "DROP TABLE singer" 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "not authorized" "$tmp/err"; check "refused statement exits non-zero ($rc)" $?
printf 'SELECT count(*)\nFROM singer;\n' | "$srlm" query --feedback --db "$db" - >"$tmp/out"; rc=$?
check "query reads stdin with -" $rc
[ "$(tail -n 1 "$tmp/out")" = "6" ]; check "stdin statement result" $?
printf 'SELECT 1\0; DROP TABLE singer' | "$srlm" query --db "$db" - 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "NUL byte" "$tmp/err"; check "NUL byte from stdin refused" $?
"$srlm" query --timeout 200 --db "$db" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c" 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "deadline of 200 ms" "$tmp/err"; check "endless query times out" $?
"$srlm" query --db "$tmp/missing.sqlite" "SELECT 1" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.sqlite" "$tmp/err"; check "missing database named, exit 1" $?
"$srlm" query --db "$db" 2>/dev/null; rc=$?
[ $rc -eq 2 ]; check "usage error exits 2" $?

# --- eval: Spider gold as predictions ---
data=$shared/spider/dev_5db.json
python3 - "$data" "$tmp/gold.sql" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], 'w') as f:
    for e in d:
        f.write(e['query'].replace('\n', ' ') + '\t' + e['db_id'] + '\n')
PY
"$srlm" eval --data "$data" --db-dir "$shared/spider/database" --predictions "$tmp/gold.sql" --out "$tmp/spider" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "eval exits 0" $rc
[ "$(tail -n 1 "$tmp/out")" = "execution accuracy: 1.0000 (247/247)" ]; check "Spider gold: execution accuracy: 1.0000 (247/247)" $?
[ -s "$tmp/spider/report.json" ] && [ -s "$tmp/spider/run.db" ]; check "report.json and run.db written" $?
grep -q "eval: 247/247 (100.0%)" "$tmp/err"; check "plain progress lines when stderr is not a terminal" $?
cat "$tmp/out"

# --- eval: BIRD fixture ---
mkdir -p "$tmp/bird/bird_mini"
python3 - "$src/tests/data/bird_mini/bird_mini.sql" "$tmp/bird/bird_mini/bird_mini.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[2]); c.executescript(open(sys.argv[1]).read()); c.commit(); c.close()
PY
"$srlm" eval --data "$src/tests/data/bird_mini/bird_mini.json" --db-dir "$tmp/bird" \
    --predictions "$src/tests/data/bird_mini/predictions.sql" --out "$tmp/bird_out" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "BIRD eval exits 0" $rc
cat "$tmp/out"
[ "$(tail -n 1 "$tmp/out")" = "execution accuracy: 0.5000 (3/6)" ]; check "BIRD: execution accuracy: 0.5000 (3/6)" $?
grep -q "challenging" "$tmp/out"; check "BIRD summary by difficulty" $?

# --- eval: bad input ---
printf '[{"question": "q", "query": "SELECT 1", "db_id": "concert_singer"}, {"question": "q", "db_id": "x"}]' >"$tmp/bad.json"
"$srlm" eval --data "$tmp/bad.json" --db-dir "$shared/spider/database" --predictions "$tmp/gold.sql" --format spider --out "$tmp/o" 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "entry 1: missing field 'query'" "$tmp/err"; check "missing field names the entry ($rc)" $?
printf 'SELECT 1\n' >"$tmp/one.sql"
"$srlm" eval --data "$data" --db-dir "$shared/spider/database" --predictions "$tmp/one.sql" --out "$tmp/o" 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "1 predictions for 247 questions" "$tmp/err"; check "prediction count mismatch" $?
"$srlm" eval --data "$data" --out "$tmp/o" 2>/dev/null; rc=$?
[ $rc -eq 2 ]; check "eval usage error exits 2" $?
exit $fail
