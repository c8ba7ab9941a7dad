#!/usr/bin/env bash
# The phone table and the fetch audit on PostgreSQL (issue 18), against a
# real PostgreSQL server (Debian's postgresql) that this script starts in a
# temporary directory as an unprivileged user, on a Unix socket only, with
# password authentication through PGPASSFILE, and stops at the end.
# `make check` installs postgresql; the script skips (and says so) only
# where its binaries are not there to start.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/pg.sh"
source "$TESTS_DIR/fixtures/run/common.sh"
trap 'jobs -p | xargs -r kill 2>/dev/null; pg_stop; [ -n "${KEEP:-}" ] && cp -r "$T_WORK" /tmp/pgkeep; rm -rf "$T_WORK"' EXIT
# (a test stopped from outside still stops its server)
trap 'exit 143' TERM INT HUP

if ! pg_available; then
  echo "pg: SKIPPED: PostgreSQL's server is not installed (apt-get install postgresql)"
  exit 0
fi
pg_start || { fail "the private PostgreSQL server did not start"; finish; exit 1; }

# ---- connection strings: no password on the command line -------------------------
r=$(mkroot pw)
use_templates "$r" desk
printf 'desk 00:11:22:33:44:01 601 pw601\n' >"$T_WORK/one.conf"
ptc_run "$r" --db "postgresql://ptc:hunter2@/ptc?host=$PG_SOCK" "$T_WORK/one.conf" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "a password in the URI: exit status" "$?" 1
expect_file "a password in the URI: the message" "$T_WORK/err" \
  "ptc run: --db: a password in the PostgreSQL connection string would show in \`ps\`, in shell history and in messages: put it in ~/.pgpass (or the file PGPASSFILE names)
"
"$PTC" status --root "$r" --db "host=$PG_SOCK dbname=ptc user=ptc password=hunter2" >/dev/null 2>"$T_WORK/err"
expect_eq "a password in key=value: ptc status exit status" "$?" 64
check "a password in key=value: never echoed" bash -c "! grep -q hunter2 '$T_WORK/err'"
"$PTC" serve --root "$r" --listen 127.0.0.1:0 --audit-db "postgresql://ptc:hunter2@/ptc?host=$PG_SOCK" 2>"$T_WORK/err"
expect_eq "a password in --audit-db: ptc serve exit status" "$?" 64
check "ptc serve names the option" grep -q '^ptc serve: --audit-db: a password' "$T_WORK/err"
check "nothing was written" test ! -e "$r/mnt/kd/phoneprov/pw601.cfg" -a -z "$(ls "$r/mnt/kd/phoneprov" | grep -v templates)"
ptc_run "$r" --db "postgresql://ptc@/ptc?host=$PG_SOCK&port=1" "$T_WORK/one.conf" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "an unreachable server: exit status" "$?" 1
check "an unreachable server: said, with the location" grep -q "postgresql://ptc@/ptc?host=$PG_SOCK&port=1: cannot connect" "$T_WORK/err"
PGPASSFILE=/nonexistent ptc_run "$r" --db "$PG_URL" "$T_WORK/one.conf" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "no password in PGPASSFILE: refused by the server" "$?" 1
check "no password: libpq's reason" grep -q 'password' "$T_WORK/err"

# ---- the table as SQLite holds it for the same list -------------------------------
# Every fixture template, several lines per phone, CID names with quotes,
# tabs are not allowed in the list but UTF-8 is.
rs=$(mkroot lite) rp=$(mkroot pg)
use_templates "$rs" desk acct defaults lit
use_templates "$rp" desk acct defaults lit
cat >"$T_WORK/list.conf" <<'L'
desk 00:11:22:33:44:01 601/Alice pw601
desk 00:11:22:33:44:02 602/"Bob'O";612/Bob2 pw602
acct 00:11:22:33:44:03 603;613;623 pw603 custom
defaults 00:11:22:33:44:04 604/Zoë pw604
lit 00:11:22:33:44:05 605 pw605
L
ptc_run "$rs" "$T_WORK/list.conf" >/dev/null 2>"$T_WORK/err.s"
expect_eq "SQLite run: exit status" "$?" 0
ptc_run "$rp" --db "$PG_URL" "$T_WORK/list.conf" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "PostgreSQL run: exit status" "$?" 0
expect_eq "PostgreSQL run: stderr as SQLite's" "$(cat "$T_WORK/err")" "$(cat "$T_WORK/err.s")"
expect_eq "the table read back exactly as SQLite holds it" "$(pg_table)" "$(table "$rs")"
expect_eq "the same tree of files" "$(cd "$rp/mnt/kd" && find phoneprov asterisk -type f | sort | xargs sha256sum)" \
  "$(cd "$rs/mnt/kd" && find phoneprov asterisk -type f | sort | xargs sha256sum)"
check "no SQLite file beside the tree" test ! -e "$rp/mnt/kd/asterisk-odbc.sqlite3"
expect_eq "the documented schema: columns and types" \
  "$(psql_q -At -c "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'phoneprov'")" \
  "id integer, ext text, cid_name text, cid_num text, account text, line integer, mac_addr text, template text, model text, vendor text, sip_driver text"
check "an index on mac_addr" grep -q 'phoneprov_mac_addr' <<<"$(psql_q -At -c "SELECT indexname FROM pg_indexes WHERE tablename = 'phoneprov'")"
check "no build table left" test "$(psql_q -At -c "SELECT to_regclass('phoneprov_build') IS NULL")" = t
v1=$(psql_q -At -c 'SELECT version FROM phoneprov_version')

# ---- rerun: nothing to write, the table left alone ---------------------------------
psql_q -c 'GRANT SELECT ON phoneprov TO PUBLIC' >/dev/null
oid=$(psql_q -At -c "SELECT 'phoneprov'::regclass::oid")
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/list.conf" >"$T_WORK/out" 2>&1
expect_eq "rerun: exit status" "$?" 0
check "rerun: the table unchanged" grep -q '8 table rows (unchanged)' "$T_WORK/out"
expect_eq "rerun: the version did not move" "$(psql_q -At -c 'SELECT version FROM phoneprov_version')" "$v1"

# ---- one phone changed: rows replaced in place, grants and OID kept --------------------
sed -i 's|604/Zoë|604/Zoe2|' "$T_WORK/list.conf"
ptc_run "$rs" -f "$T_WORK/list.conf" >/dev/null 2>&1
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/list.conf" >"$T_WORK/out" 2>&1
expect_eq "change: exit status" "$?" 0
expect_eq "change: the table as SQLite's" "$(pg_table)" "$(table "$rs")"
expect_eq "change: the version moved" "$(psql_q -At -c 'SELECT version FROM phoneprov_version')" "$((v1 + 1))"
expect_eq "change: the same table (OID)" "$(psql_q -At -c "SELECT 'phoneprov'::regclass::oid")" "$oid"
check "change: its grant kept" grep -q '=r/' <<<"$(psql_q -At -c "SELECT relacl FROM pg_class WHERE relname = 'phoneprov'")"

# ---- partial: -p appends rows after the existing ones ----------------------------------
printf 'desk 00:11:22:33:44:09 609/Late pw609\n' >"$T_WORK/more.conf"
ptc_run "$rs" -p "$T_WORK/more.conf" >/dev/null 2>&1
ptc_run "$rp" --db "$PG_URL" -p "$T_WORK/more.conf" >"$T_WORK/out" 2>&1
expect_eq "partial: exit status" "$?" 0
expect_eq "partial: rows appended as SQLite appends them" "$(pg_table)" "$(table "$rs")"
expect_eq "partial: ids 1..9" "$(psql_q -At -c 'SELECT string_agg(id::text, $$,$$ ORDER BY id) FROM phoneprov')" "1,2,3,4,5,6,7,8,9"

# ---- a database error fails the run before its commit point: nothing written ------------
psql_q -c 'CREATE TABLE phoneprov_version_keep AS SELECT * FROM phoneprov_version' >/dev/null
before=$(snapshot "$rp/mnt/kd/phoneprov")
rows_before=$(pg_table)
# A list whose CID name is not valid UTF-8: the server refuses the row.
printf 'desk 00:11:22:33:44:01 601/Al\xe9 pw601\n' >"$T_WORK/latin1.conf"
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/latin1.conf" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "a row the server refuses: exit status" "$?" 1
check "a row the server refuses: the server's reason, with the location" \
  grep -q "^ptc: error: $PG_URL: insert: .*invalid byte sequence for encoding \"UTF8\"" "$T_WORK/err"
check "a row the server refuses: nothing was written" grep -q 'nothing was written' "$T_WORK/err"
expect_eq "a row the server refuses: the tree as before" "$(snapshot "$rp/mnt/kd/phoneprov")" "$before"
expect_eq "a row the server refuses: the rows as before" "$(pg_table)" "$rows_before"
check "a row the server refuses: no temporary file" test -z "$(leftovers "$rp/mnt/kd")"

# ---- killed runs: the table is the old rows or the new ones, never a mix -------------------
# Two lists of $N phones that differ in every row; a run is killed at a
# random moment, then `ptc recover` finishes or undoes it as the next run
# would, and the table must be one whole list, the one the tree holds.
# (300 under valgrind, where a run is some 30 times slower.)
N=3000
[ -n "${VALGRIND:-}" ] && N=300
rk=$(mkroot kill)
use_templates "$rk" desk
for g in A B; do
  for i in $(seq 1 $N); do printf 'desk 00:11:22:%02x:%02x:%02x 7%04d/Gen%s pw%d\n' $((i / 65536)) $((i / 256 % 256)) $((i % 256)) "$i" "$g" "$i"; done >"$T_WORK/$g.conf"
done
ptc_run "$rk" --db "$PG_URL" -f "$T_WORK/A.conf" >/dev/null 2>&1
gen_of_table() { psql_q -At -c "SELECT string_agg(DISTINCT cid_name, ',') FROM phoneprov"; }
gen_of_tree()  { grep -o 'name=Gen[AB]' "$rk/mnt/kd/phoneprov/acme/00112200010a.cfg" 2>/dev/null | sed 's/name=//' ; }
kills=0 killed_mid=0 mixed=0 last=A
for k in 1 2 3 4 5 6 7 8; do
  next=$([ "$last" = A ] && echo B || echo A)
  # (ptc itself in the background, not a shell function: the kill must reach it)
  "$PTC" run --root "$rk" --cache-dir "$T_WORK/cache" --db "$PG_URL" -f "$T_WORK/$next.conf" >/dev/null 2>&1 & pid=$!
  sleep "0.$((RANDOM % 6 + 1))"
  kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  [ $? = 137 ] && killed_mid=$((killed_mid + 1))
  "$PTC" recover --root "$rk" --db "$PG_URL" 2>/dev/null
  t=$(gen_of_table) f=$(gen_of_tree)
  case "$t" in GenA|GenB) ;; *) mixed=$((mixed + 1)); echo "  kill $k: table holds '$t'" >&2 ;; esac
  [ "$t" = "$f" ] || { mixed=$((mixed + 1)); echo "  kill $k: table $t, tree $f" >&2; }
  [ "$(psql_q -At -c 'SELECT count(*) FROM phoneprov')" = "$N" ] || mixed=$((mixed + 1))
  last=${t#Gen}
done
expect_eq "8 killed runs: the table always one whole generation, the tree's" "$mixed" 0
check "some runs were really killed mid-run ($killed_mid of 8)" test "$killed_mid" -ge 1
# Kills at a chosen moment (tests/fixtures/fault-shim.c: SIGKILL at the
# first rename onto a name): onto .ptc-commit, the manifest, is the commit
# point, then the files are renamed and the table swapped after the last.
# Killed before the manifest, nothing happened; killed at the first file,
# the run is committed and `ptc recover` (or the next run, or ptc serve)
# finishes it, the table included.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
if [ -z "${VALGRIND:-}" ] && cc -shared -fPIC -O1 -o "$T_WORK/shim.so" "$TESTS_DIR/fixtures/fault-shim.c" -ldl; then
  for k in /.ptc-commit .cfg; do
    was=$(gen_of_table)
    next=$([ "$was" = GenA ] && echo B || echo A)
    LD_PRELOAD=$T_WORK/shim.so FAULT_KILL_AT_RENAME_TO=$k ptc_run "$rk" --db "$PG_URL" -f "$T_WORK/$next.conf" >/dev/null 2>&1
    expect_eq "killed at the rename onto *$k: killed" "$?" 137
    if [ $k = /.ptc-commit ]; then
      expect_eq "killed before the commit point: the old rows" "$(gen_of_table)" "$was"
      "$PTC" recover --root "$rk" --db "$PG_URL"
      expect_eq "... and after recover, still the old rows and tree" "$(gen_of_table):$(gen_of_tree)" "$was:$was"
    else
      expect_eq "killed after the commit point: the table not swapped yet" "$(gen_of_table)" "$was"
      check "... its build table waits" test "$(psql_q -At -c "SELECT to_regclass('phoneprov_build') IS NULL")" = f
      "$PTC" recover --root "$rk" --db "$PG_URL" 2>"$T_WORK/err"
      expect_file "... recover says so" "$T_WORK/err" "ptc: warning: finishing an interrupted run [recover]
"
      expect_eq "... recover finishes it: the new rows and tree" "$(gen_of_table):$(gen_of_tree)" "Gen$next:Gen$next"
    fi
  done
fi
ptc_run "$rk" --db "$PG_URL" -f "$T_WORK/B.conf" >/dev/null 2>&1
expect_eq "after the kills, a run finishes" "$(gen_of_table)" GenB
check "... and no build table is left" test "$(psql_q -At -c "SELECT to_regclass('phoneprov_build') IS NULL")" = t

# ---- two hosts: runs serialise on the advisory lock, the second says for whom ------------------
# A session standing for a run on another host holds the lock for 2 s (8
# under valgrind, where ptc takes seconds to reach its lock).
hold=2
[ -n "${VALGRIND:-}" ] && hold=8
(psql_q -v ON_ERROR_STOP=1 -c "SET application_name = 'ptc on pbx-b pid 4242'" \
   -c 'SELECT pg_advisory_lock(7370, 1)' -c "SELECT pg_sleep($hold)" >/dev/null) & holder=$!
for _ in $(seq 50); do
  [ "$(psql_q -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7370 AND granted")" = 1 ] && break
  sleep 0.1
done
start=$(date +%s%N)
ptc_run "$rk" --db "$PG_URL" -f "$T_WORK/A.conf" >"$T_WORK/out" 2>"$T_WORK/err"
rc=$?
waited=$(( ($(date +%s%N) - start) / 1000000 ))
wait $holder
expect_eq "a run while another host's holds the lock: exit status" "$rc" 0
check "it says whom it waits for" grep -q "^ptc: waiting for ptc on pbx-b pid 4242 (server pid [0-9]*, connected from the local socket since .*), which is writing the phone table at $PG_URL" "$T_WORK/err"
check "it waited for the lock (${waited} ms)" test "$waited" -ge 1000
expect_eq "then it wrote its rows" "$(gen_of_table)" GenA
# Two real runs from two hosts (two trees) at once: both finish, one after
# the other, and the table is one of the two lists, whole.
rh=$(mkroot hostb)
use_templates "$rh" desk
ptc_run "$rk" --db "$PG_URL" -f "$T_WORK/B.conf" >"$T_WORK/o1" 2>&1 & p1=$!
ptc_run "$rh" --db "$PG_URL" -f "$T_WORK/A.conf" >"$T_WORK/o2" 2>&1 & p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
expect_eq "two concurrent runs: both succeed" "$rc1 $rc2" "0 0"
t=$(gen_of_table)
check "two concurrent runs: the table is one whole list ($t)" test "$t" = GenA -o "$t" = GenB
expect_eq "two concurrent runs: every row of one list" "$(psql_q -At -c 'SELECT count(*) FROM phoneprov')" "$N"

# ---- two ptc serve processes share the audit while a load runs --------------------------------
# Both serve the same tree (as from shared storage) and write one audit.
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/list.conf" >/dev/null 2>&1
serve_one() {
  "$PTC" serve --root "$rp" --db "$PG_URL" --audit-db "$PG_URL" --listen 127.0.0.1:0 --allow 127.0.0.1 \
    --access-log off --miss-budget off 2>"$T_WORK/serve$1.log" &
}
serve_one 1; s1=$!
serve_one 2; s2=$!
p1=$(port_of "$T_WORK/serve1.log" $s1) p2=$(port_of "$T_WORK/serve2.log" $s2)
check "two servers listening" test -n "$p1" -a -n "$p2"
files=$(cd "$rp/mnt/kd/phoneprov" && find . -path ./templates -prune -o -type f -print | sed 's|^\./||' | sort)
load() {   # PORT UA: 40 rounds over every file
  for _ in $(seq 40); do
    for f in $files; do echo "url = \"http://127.0.0.1:$1/phoneprov/$f\""; echo "output = /dev/null"; done
  done | curl -s -K - -A "$2" -w '%{http_code}\n' >"$T_WORK/codes.$1"
}
load "$p1" "Load-One/1.0" & l1=$!
load "$p2" "Load-Two/2.0" & l2=$!
wait $l1 $l2
expect_eq "the load: every answer 200" "$(sort -u "$T_WORK/codes.$p1" "$T_WORK/codes.$p2")" 200
# Each phone's last fetch is on server 2, a second after the load (the audit
# keeps the fetch with the latest time, in seconds, whichever server
# flushes last).  The acct template's file names no MAC (MAC6-EXT.txt), and
# the -p run's phone (…09) is no longer in the table: neither is a phone's
# file, neither is audited.
nmac=$(grep '[0-9a-f]\{12\}' <<<"$files" | grep -vc 334409)
sleep 1.5
for f in $files; do curl -s -o /dev/null -A "Last/3.0" "http://127.0.0.1:$p2/phoneprov/$f"; done
for _ in $(seq 300); do
  n=$(psql_q -At -c "SELECT count(*) FROM phoneprov_fetch WHERE user_agent = 'Last/3.0'" 2>/dev/null)
  [ "$n" = "$nmac" ] && break
  sleep 0.1
done
expect_eq "the shared audit: a row per phone and file, the latest fetch" "$n" "$nmac"
expect_eq "the shared audit: no row from the load left behind" \
  "$(psql_q -At -c "SELECT count(*) FROM phoneprov_fetch WHERE user_agent <> 'Last/3.0'")" 0
"$PTC" status --root "$rp" --db "$PG_URL" --audit-db "$PG_URL" >"$T_WORK/status" 2>&1
expect_eq "ptc status over PostgreSQL: exit status" "$?" 0
check "ptc status: the count line" grep -q '^5 phones: 4 up to date, 1 never fetched, 0 stale' "$T_WORK/status"
check "ptc status: the last fetch's User-Agent's address" grep -q '^00:11:22:33:44:01 601 .* 127.0.0.1 .* ok$' "$T_WORK/status"

# ---- a new phone: both servers reload the table's MACs -------------------------------------
printf 'desk 00:11:22:33:44:0a 610/New pw610\n' >>"$T_WORK/list.conf"
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/list.conf" >/dev/null 2>&1
for s in 1 2; do
  # (a bounded wait: seconds under valgrind)
  for _ in $(seq 300); do grep -q 'phone table changed: reload' "$T_WORK/serve$s.log" && break; sleep 0.1; done
  check "server $s reloaded the phone table" grep -q 'phone table changed: reload done: 6 phones' "$T_WORK/serve$s.log"
done
curl -s -o /dev/null -A "New/1.0" "http://127.0.0.1:$p1/phoneprov/acme/00112233440a.cfg"
for _ in $(seq 300); do
  [ "$(psql_q -At -c "SELECT count(*) FROM phoneprov_fetch WHERE mac_addr = '00112233440a'")" = 1 ] && break
  sleep 0.1
done
expect_eq "the new phone's fetch is audited" \
  "$(psql_q -At -c "SELECT user_agent FROM phoneprov_fetch WHERE mac_addr = '00112233440a'")" "New/1.0"
# The database goes away: the servers keep serving the phones they know,
# the audit waits in memory (bounded), and lands when the server is back.
pg_down
code=$(curl -s -o /dev/null -w '%{http_code}' -A "Offline/1.0" "http://127.0.0.1:$p1/phoneprov/acme/001122334401.cfg")
expect_eq "database down: a known phone still gets its file" "$code" 200
"$PTC" status --root "$rp" --db "$PG_URL" --audit-db "$PG_URL" >"$T_WORK/out" 2>"$T_WORK/err"
expect_eq "database down: ptc status fails" "$?" 1
check "database down: ptc status says where and why" \
  grep -qF "ptc: error: phone table $PG_URL: cannot connect: connection to server on socket \"$PG_SOCK/.s.PGSQL.5432\" failed: No such file or directory Is the server running locally and accepting connections on that socket? [postgresql]" "$T_WORK/err"
sleep 1.5
pg_up
for _ in $(seq 300); do
  [ "$(psql_q -At -c "SELECT count(*) FROM phoneprov_fetch WHERE user_agent = 'Offline/1.0'" 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
expect_eq "database back: the fetch made meanwhile is in the audit" \
  "$(psql_q -At -c "SELECT count(*) FROM phoneprov_fetch WHERE user_agent = 'Offline/1.0'")" 1
check "database back: the server kept serving (alive)" kill -0 $s1
kill -TERM $s1 $s2; wait $s1 $s2 2>/dev/null
check "no password in the servers' logs" bash -c "! grep -q 'pw60' '$T_WORK/serve1.log' '$T_WORK/serve2.log'"

# ---- ptc notify --changed reads the shared audit ------------------------------------------
BIN=$T_WORK/bin
mkdir -p "$BIN"
cp "$TESTS_DIR/fixtures/asterisk-standin" "$BIN/asterisk"
sed -i 's|name=@CID_NAME@|name=@CID_NAME@ changed|; s|^model=desk100$|&\nnotify_reload=acme-check-cfg|' \
  "$rp/mnt/kd/phoneprov/templates/desk.conf"
ptc_run "$rp" --db "$PG_URL" -f "$T_WORK/list.conf" >/dev/null 2>&1
PATH=$BIN:$PATH NOTIFY_LOG=$T_WORK/notify.log "$PTC" notify --root "$rp" --db "$PG_URL" --audit-db "$PG_URL" \
  --changed --dry-run >"$T_WORK/out" 2>&1
expect_eq "notify --changed over PostgreSQL: exit status" "$?" 0
check "notify --changed: the desk phones whose files changed" grep -q '00:11:22:33:44:01 .*would' "$T_WORK/out"
sed -i 's|changed$|changed again|' "$rp/mnt/kd/phoneprov/templates/desk.conf"
: >"$T_WORK/notify.log"
PATH=$BIN:$PATH NOTIFY_LOG=$T_WORK/notify.log ptc_run "$rp" --db "$PG_URL" --audit-db "$PG_URL" --notify -q -f \
  "$T_WORK/list.conf" >"$T_WORK/out" 2>&1
expect_eq "run --notify --audit-db over PostgreSQL: exit status" "$?" 0
expect_eq "run --notify: the phones whose fetched files changed, told through Asterisk" "$(sort "$T_WORK/notify.log")" \
  "sip notify acme-check-cfg 601_4401
sip notify acme-check-cfg 602_4402
sip notify acme-check-cfg 610_440a"

# ---- ptc web over PostgreSQL: Generate, the status page, a run lock held elsewhere -------------
jv() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(json.dumps(r) if isinstance(r,(dict,list,bool)) or r is None else r)' "$1" "$2"; }
echo 'Adm1n-secret' | "$PTC" passwd --root "$rp" admin >/dev/null
sed -i 's|604/Zoe2|604/Zoe3|' "$T_WORK/list.conf"
"$PTC" web --root "$rp" --cache-dir "$T_WORK/cache" --listen 127.0.0.1:0 --list "$T_WORK/list.conf" \
  --db "$PG_URL" --audit-db "$PG_URL" 2>"$T_WORK/web.err" & wpid=$!
wport=$(port_of "$T_WORK/web.err" $wpid)
JAR=$T_WORK/jar BODY=$T_WORK/body CSRF=
api() {
  local m=$1 p=$2; shift 2
  curl -s -m 60 -o "$BODY" -w '%{http_code}' -b "$JAR" -c "$JAR" -X "$m" ${CSRF:+-H "X-CSRF-Token: $CSRF"} \
    -H 'Content-Type: application/json' "$@" "http://127.0.0.1:$wport$p"
}
expect_eq "web: login" "$(api POST /api/login -d '{"user":"admin","password":"Adm1n-secret"}')" 200
CSRF=$(jv "$BODY" 'j["csrf"]')
expect_eq "web: the status page reads the shared table and audit" "$(api GET /api/status)" 200
expect_eq "web: status counts" "$(jv "$BODY" '[j["generated"], j["have_audit"], j["counts"]["ok"] + j["counts"]["stale"] + j["counts"]["never"]]')" '[true, true, 6]'
(psql_q -c "SET application_name = 'ptc on pbx-c pid 77'" -c 'SELECT pg_advisory_lock(7370, 1)' \
   -c "SELECT pg_sleep($((hold + 1)))" >/dev/null) & holder=$!
for _ in $(seq 50); do
  [ "$(psql_q -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7370 AND granted")" = 1 ] && break
  sleep 0.1
done
expect_eq "web: Generate while another host runs: 409" "$(api POST /api/generate -d '{"reload":false}')" 409
check "web: the 409 names that run" grep -q '"error": *"ptc on pbx-c pid 77 (server pid [0-9]*, connected from the local socket since [-0-9: ]*) is generating now"' "$BODY"
wait $holder
expect_eq "web: Generate" "$(api POST /api/generate -d '{"reload":false}')" 200
expect_eq "web: the row written to PostgreSQL" "$(psql_q -At -c "SELECT cid_name FROM phoneprov WHERE ext = '604'")" Zoe3
kill -TERM $wpid; wait $wpid 2>/dev/null

finish
