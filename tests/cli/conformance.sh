#!/usr/bin/env bash
# Runs every conformance vector (../shared/conformance/NN-name) through
# `ptc run --root` and compares, byte for byte, the tree under /mnt/kd, the
# phoneprov table and its schema, and the exit status.
set -u
PTC=${PTC:?PTC must name the ptc binary}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
CONF=$SHARED/conformance
if [ ! -d "$CONF" ]; then
  echo "conformance: no vectors at $CONF" >&2
  exit 1
fi
pass=0 fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for case in "$CONF"/*/; do
  name=$(basename "$case")
  root=$work/$name
  mkdir -p "$root/etc" "$root/mnt/kd/phoneprov/templates"
  cp "$case/input/rc.conf" "$root/etc/rc.conf"
  cp "$case"/input/templates/*.conf "$root/mnt/kd/phoneprov/templates/"
  list=$work/$name.massdeployment.conf
  cp "$case/input/massdeployment.conf" "$list"
  # shellcheck disable=SC2046
  "$PTC" run $(cat "$case/input/options") --root "$root" --cache-dir "$work/cache" "$list" \
      >"$work/$name.out" 2>"$work/$name.err"
  status=$?
  ok=1
  want=$(cat "$case/expected/exit")
  if [ "$status" != "$want" ]; then
    echo "FAIL $name: exit $status, want $want"; cat "$work/$name.err"; ok=0
  fi
  got=$work/$name.tree
  mkdir -p "$got"
  (cd "$root/mnt/kd" && find . -path ./phoneprov/templates -prune -o -type f ! -name asterisk-odbc.sqlite3 -print) \
    | while read -r f; do mkdir -p "$got/$(dirname "$f")"; cp "$root/mnt/kd/$f" "$got/$f"; done
  if [ -d "$case/expected/tree" ]; then
    if ! diff -r "$case/expected/tree" "$got" >"$work/$name.diff"; then
      echo "FAIL $name: tree differs"; head -40 "$work/$name.diff"; ok=0
    fi
  elif [ -n "$(ls -A "$got")" ]; then
    echo "FAIL $name: files written, want none:"; (cd "$got" && find . -type f); ok=0
  fi
  db=$root/mnt/kd/asterisk-odbc.sqlite3
  if [ -f "$case/expected/phoneprov.tsv" ]; then
    if ! sqlite3 -header -separator $'\t' "$db" 'SELECT * FROM phoneprov ORDER BY id' \
        | diff "$case/expected/phoneprov.tsv" - >"$work/$name.tdiff"; then
      echo "FAIL $name: phoneprov table differs"; head -20 "$work/$name.tdiff"; ok=0
    fi
    if ! sqlite3 "$db" '.schema phoneprov' | diff "$case/expected/phoneprov.schema" - >"$work/$name.sdiff"; then
      echo "FAIL $name: schema differs"; cat "$work/$name.sdiff"; ok=0
    fi
  elif [ -f "$db" ] && [ -n "$(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE name='phoneprov'")" ]; then
    echo "FAIL $name: a phoneprov table was created"; ok=0
  fi
  if [ $ok = 1 ]; then pass=$((pass+1)); echo "ok   $name"; else fail=$((fail+1)); fi
done
echo "conformance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
