#!/usr/bin/env bash
# bench/pg.sh PTC [N]: `ptc run` with the phoneprov table in PostgreSQL next
# to the same run with it in SQLite, N phones (default 100,000) of bench/gen's
# list over the stock templates: a first run, a rerun with nothing changed, a
# rerun with one phone changed, and `ptc status` over the table; medians of 3
# with peak RSS.  The server is a private one (tests/pg.sh: a Unix socket,
# fsync off, as a benchmark of ptc rather than of the disk).  Skipped, and
# said, when PostgreSQL is not installed.
set -u
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
PTC=${1:-$REPO/build/ptc}
case $PTC in /*) ;; *) PTC=$PWD/$PTC ;; esac
N=${2:-100000}
export PTC
# The trees on tmpfs, as bench/run.sh has them: ptc's work, not the disk's.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
source "$REPO/tests/lib.sh"
source "$REPO/tests/pg.sh"
trap 'pg_stop; rm -rf "$T_WORK"' EXIT
# (a test stopped from outside still stops its server)
trap 'exit 143' TERM INT HUP
pg_available && [ -x /usr/bin/time ] || { echo "bench/pg.sh: PostgreSQL or /usr/bin/time missing; skipped"; exit 0; }
pg_start || { echo "bench/pg.sh: the private PostgreSQL did not start" >&2; exit 1; }
mkdir -p "$REPO/build/bench"
cc -O2 -std=c11 -D_GNU_SOURCE -o "$REPO/build/bench/gen" "$REPO/bench/gen.c" || exit 1
"$REPO/build/bench/gen" "$N" >"$T_WORK/list.conf"
# the same list with one phone's password changed
awk 'BEGIN { done = 0 } !done && NF >= 4 && $1 !~ /^#/ { $4 = "Changed0ne" ; done = 1 } { print }' \
  "$T_WORK/list.conf" >"$T_WORK/list1.conf"

newroot() {   # NAME: a fresh --root with the stock templates
  local r
  r=$(mkroot "$1")
  cp "$REPO"/templates/*.conf "$r/mnt/kd/phoneprov/templates/"
  echo "$r"
}
timed() {     # LABEL ARGS...: one timed ptc command, "seconds KiB" appended to $T_WORK/LABEL
  local label=$1; shift
  /usr/bin/time -o "$T_WORK/t" -f '%e %M' "$PTC" "$@" >/dev/null 2>"$T_WORK/err" ||
    { echo "bench/pg.sh: $label failed:" >&2; cat "$T_WORK/err" >&2; exit 1; }
  tail -1 "$T_WORK/t" >>"$T_WORK/$label"
}
median() { sort -n "$T_WORK/$1" | sed -n 2p; }

for rep in 1 2 3; do
  for kind in sqlite pg; do
    r=$(newroot "$kind$rep")
    db=$r/mnt/kd/asterisk-odbc.sqlite3
    if [ "$kind" = pg ]; then
      db=$PG_URL
      psql_q -c 'DROP TABLE IF EXISTS phoneprov, phoneprov_version' >/dev/null
    fi
    c=(--root "$r" --cache-dir "$T_WORK/cache" --db "$db")
    timed "$kind.first" run "${c[@]}" -q "$T_WORK/list.conf"
    timed "$kind.rerun" run "${c[@]}" -q -f "$T_WORK/list.conf"
    timed "$kind.one" run "${c[@]}" -q -f "$T_WORK/list1.conf"
    timed "$kind.status" status --root "$r" --db "$db" --audit-db "$r/none.sqlite3"
    [ "$kind" = pg ] && pg_rows=$(psql_q -At -c 'SELECT count(*) FROM phoneprov')
    [ "$kind" = sqlite ] && lite_rows=$(sqlite3 "$db" 'SELECT count(*) FROM phoneprov')
    rm -rf "$r"
  done
done
[ "$pg_rows" = "$lite_rows" ] || { echo "bench/pg.sh: FAIL: $pg_rows rows in PostgreSQL, $lite_rows in SQLite" >&2; exit 1; }
echo "bench/pg.sh: $N phones ($lite_rows table rows), medians of 3, seconds and peak RSS; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-34s %17s %17s %9s\n' "" SQLite PostgreSQL "pg/sqlite"
for m in first:"first run" rerun:"rerun, nothing changed" one:"rerun, one phone changed" status:"ptc status (table only)"; do
  k=${m%%:*} label=${m#*:}
  s=$(median "sqlite.$k") p=$(median "pg.$k")
  printf '  %-34s %7ss %5dMiB %7ss %5dMiB %7.2fx\n' "$label" "${s% *}" $(( ${s#* } / 1024 )) "${p% *}" $(( ${p#* } / 1024 )) \
    "$(awk -v a="${p% *}" -v b="${s% *}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
