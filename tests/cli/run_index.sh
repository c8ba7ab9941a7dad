#!/usr/bin/env bash
# The generation index (issue 17, include/ptc/gen.h): a rerun with nothing
# to do replays the last run's record after a stat per file, and reports
# exactly what the full run reports; anything changed since, by ptc or
# behind its back, takes the full run, which restores it.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

r=$(mkroot idx)
use_templates "$r" desk acct
for i in $(seq 1 40); do printf 'desk 00:0b:82:00:10:%02x 7%02d/Name%d pw%03d\n' "$i" "$i" "$i" "$i"; done >"$T_WORK/list.conf"
printf 'acct 00:0b:82:00:20:01 801;811 pwacct custom\n' >>"$T_WORK/list.conf"
C=$T_WORK/cache
run() { "$PTC" run --root "$r" --cache-dir "$C" "$@"; }
# replayed: the rerun compiled nothing (an empty cache stays empty but
# for the index) and so cannot have rendered anything
idx() { find "$C" -name 'gen-*.idx'; }
bytecode() { find "$C" -name '*.ptcb' | wc -l; }
full_rerun() {   # ARGS...: the same rerun with the index out of the way: the reference
  local keep=$T_WORK/idx.keep
  mv "$(idx)" "$keep"; run "$@"; local rc=$?
  return $rc
}

run -q "$T_WORK/list.conf"
expect_eq "first run: one index in the cache directory" "$(idx | wc -l)" 1
check "first run: nothing of ptc's left in /mnt/kd" test -z "$(find "$r/mnt/kd" -maxdepth 1 -name '.*')"
expect_eq "the index: its user's only" "$(stat -c %a "$(idx)")" 600
before=$(snapshot "$r/mnt/kd")

# ---- nothing changed: the replay, word for word ------------------------------------------
rm -f "$C"/*.ptcb
run -f "$T_WORK/list.conf" >"$T_WORK/fast.out" 2>"$T_WORK/fast.err"
expect_eq "no-change rerun: exit status" "$?" 0
expect_eq "no-change rerun: replayed (no template compiled)" "$(bytecode)" 0
expect_eq "no-change rerun: nothing touched" "$(snapshot "$r/mnt/kd")" "$before"
full_rerun -f "$T_WORK/list.conf" >"$T_WORK/full.out" 2>"$T_WORK/full.err"
check "no-change rerun: the same output as the full run" cmp -s "$T_WORK/fast.out" "$T_WORK/full.out"
check "no-change rerun: the same stderr" cmp -s "$T_WORK/fast.err" "$T_WORK/full.err"
check "no-change rerun: the summary" grep -qx 'ptc: 41 phones: 0 files created, 0 changed, 43 unchanged; 42 table rows (unchanged)' "$T_WORK/fast.out"
expect_eq "the full run wrote the index again" "$(idx | wc -l)" 1
# the web interface's view: every file named, unchanged, through the hooks (-n is never replayed)
run -f -n "$T_WORK/list.conf" >"$T_WORK/dry.out"
check "a dry run still works the full way" test "$(bytecode)" -gt 0
check "a dry run leaves the index" test -n "$(idx)"

# ---- without -f the rerun refuses as before ---------------------------------------------------
run "$T_WORK/list.conf" >/dev/null 2>"$T_WORK/err"
expect_eq "without -f: exit 2 as always" "$?" 2

# ---- behind ptc's back: each is found by its stat and restored -----------------------------------
f=$r/mnt/kd/phoneprov/acme/000b82001001.cfg
want=$(cat "$f")
sed -i 's/pw001/pwEVIL/' "$f"
rm -f "$C"/*.ptcb
run -q -f "$T_WORK/list.conf"
expect_eq "a file edited behind ptc's back: restored" "$(cat "$f")" "$want"
check "... by the full run" test "$(bytecode)" -gt 0
rm "$f"
run -q -f "$T_WORK/list.conf"
expect_eq "a file removed: restored" "$(cat "$f" 2>/dev/null)" "$want"
chmod 644 "$f"
run -q -f "$T_WORK/list.conf"
expect_eq "a file opened to everyone: tightened again" "$(stat -c %a "$f")" 640
cp -p "$f" "$f.x" && mv "$f.x" "$f"     # same bytes, same mtime, another inode
rm -f "$C"/*.ptcb
run -q -f "$T_WORK/list.conf"
check "a file replaced by a copy: the full run looks" test "$(bytecode)" -gt 0
sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" "UPDATE phoneprov SET cid_name = 'Mallory' WHERE id = 1"
run -q -f "$T_WORK/list.conf"
expect_eq "the table edited behind ptc's back: restored" \
  "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" 'SELECT cid_name FROM phoneprov WHERE id = 1')" Name1
inc=$r$INC/astlinux-phoneprov-sip.conf
echo '; extra' >>"$inc"
run -q -f "$T_WORK/list.conf"
check "an include file edited: restored" sh -c "! grep -q extra '$inc'"
expect_eq "after all that: every file's bytes as the first run left them" \
  "$(snapshot "$r/mnt/kd" | grep -v '^[df] \|asterisk-odbc')" "$(grep -v '^[df] \|asterisk-odbc' <<<"$before")"

# ---- the inputs: each one changes the key -------------------------------------------------------
sed -i 's|^desk 00:0b:82:00:10:01 701/Name1 pw001$|desk 00:0b:82:00:10:01 701/Renamed pw001|' "$T_WORK/list.conf"
run -q -f "$T_WORK/list.conf"
check "the list changed: its phone's file follows" grep -q 'name=Renamed' "$f"
sed -i 's/^server=/server=sip:/' "$r/mnt/kd/phoneprov/templates/desk.conf"
run -q -f "$T_WORK/list.conf"
check "a template changed: its files follow" grep -q '^server=sip:' "$f"
sed -i 's/INTIP="10.0.0.1"/INTIP="10.0.0.9"/' "$r/etc/rc.conf"
run -q -f "$T_WORK/list.conf"
check "rc.conf changed (the SIP server): the files follow" grep -q '^server=sip:10.0.0.9' "$f"
cp "$r/mnt/kd/phoneprov/templates/desk.conf" "$r/mnt/kd/phoneprov/templates/spare.conf"
rm -f "$C"/*.ptcb
run -q -f "$T_WORK/list.conf"
check "a template added (named by no line yet): the full run looks" test "$(bytecode)" -gt 0

# ---- a broken index is a miss, never an error ---------------------------------------------------
for damage in truncate garbage empty; do
  i=$(idx)
  case $damage in
    truncate) head -c 100 "$i" >"$i.t" && mv "$i.t" "$i" ;;
    garbage) printf 'ptc-gen 1 0000000000000000\nF x y\nE 1 2 3\n' >"$i" ;;
    empty) : >"$i" ;;
  esac
  run -f "$T_WORK/list.conf" >"$T_WORK/out" 2>"$T_WORK/err"
  expect_eq "a $damage index: exit status" "$?" 0
  expect_eq "a $damage index: nothing said" "$(cat "$T_WORK/err")" ""
  check "a $damage index: a proper record again" grep -q '^E ' "$(idx)"
done

# ---- -p depends on what is there: it drops the index and writes none ---------------------------
printf 'desk 00:0b:82:00:30:01 901 pwp\n' >"$T_WORK/more.conf"
run -q -p "$T_WORK/more.conf"
expect_eq "-p: no index afterwards" "$(idx | wc -l)" 0
run -q -f "$T_WORK/list.conf"
expect_eq "the next full run: an index again" "$(idx | wc -l)" 1

# ---- a run that fails before its commit point keeps the old index (nothing changed) ------------
cp "$T_WORK/list.conf" "$T_WORK/bad.conf"
echo 'desk 00:0b:82:00:10:01 999 pwdup' >>"$T_WORK/bad.conf"
old_idx=$(cat "$(idx)")
run -q -f "$T_WORK/bad.conf" 2>/dev/null
expect_eq "a refused run: exit status" "$?" 1
expect_eq "a refused run: the index as it was" "$(cat "$(idx)")" "$old_idx"

# ---- no cache directory, no index: runs as always ----------------------------------------------
r2=$(mkroot nocache)
use_templates "$r2" desk acct
HOME=/nonexistent XDG_CACHE_HOME=/nonexistent "$PTC" run --root "$r2" -q "$T_WORK/list.conf" 2>/dev/null
expect_eq "no usable cache directory: the run still works" "$?" 0
finish
