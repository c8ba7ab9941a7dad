#!/usr/bin/env bash
# ptc run, issue 3: all or nothing.  Every line is checked before anything
# is written; a failing run leaves the tree and the table of the previous
# generation; no temporary file or commit record is left behind; files
# whose content did not change keep their mtime; a lock makes concurrent
# runs wait for each other; an interrupted run is finished or undone.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

r=$(mkroot atomic)
use_templates "$r" desk
db=$r/mnt/kd/asterisk-odbc.sqlite3
list=$T_WORK/atomic.conf
printf 'desk 00:0b:82:11:22:33 201 pw1\ndesk 00:0b:82:11:22:44 202 pw2\ndesk 00:0b:82:11:22:55 203 pw3\n' >"$list"
rcap "$r" "$list"
expect_eq "generation 1: status" "$RC" 0
expect_eq "generation 1: summary" "$OUT" "Generating Phone Provisioning files:
...Done
ptc: 3 phones: 5 files created, 0 changed, 0 unchanged; 3 table rows
"
gen1=$(snapshot "$r") table1=$(table "$r")
expect_eq "generation 1: no leftovers" "$(leftovers "$r")" ""

# ---- a failing list: the tree and the db stay exactly as they were ---------------------
bad=$T_WORK/atomic-bad.conf
printf 'desk 00:0b:82:11:22:33 201 NEWPW\ndesk 00:0b:82:11:22:44 2x2 pw2\ndesk 00:0b:82:11:22:55 203 pw3\ndesk 00:0b:82:11:22:66 204 pw4 bad/acct\n' >"$bad"
rcap "$r" -f "$bad"
expect_eq "bad list: status" "$RC" 1
expect_eq "bad list: both bad lines reported" "$(grep -c "^$bad:[0-9]*:[0-9]*: error: " "$T_WORK/.err")" 2
expect_eq "bad list: tree and db untouched (bytes, modes, mtimes)" "$(snapshot "$r")" "$gen1"
expect_eq "bad list: table" "$(table "$r")" "$table1"
expect_eq "bad list: no leftovers" "$(leftovers "$r")" ""

# ---- a failure while executing (the table cannot be built): rolled back ---------------
sqlite3 "$db" 'CREATE VIEW phoneprov_build AS SELECT 1'
printf 'desk 00:0b:82:11:22:33 201 NEWPW\ndesk 00:0b:82:11:22:44 202 pw2\ndesk 00:0b:82:11:22:66 204 pw4\n' >"$T_WORK/atomic-new.conf"
rcap "$r" -f "$T_WORK/atomic-new.conf"
expect_eq "execute failure: status" "$RC" 1
expect_eq "execute failure: message" "$ERR" "ptc: error: $db: use DROP VIEW to delete view phoneprov_build [sqlite]
ptc: nothing was written: fix the errors above and run again.
"
expect_eq "execute failure: files untouched" "$(snapshot "$r" | grep -v asterisk-odbc)" "$(echo "$gen1" | grep -v asterisk-odbc)"
expect_eq "execute failure: table" "$(table "$r")" "$table1"
expect_eq "execute failure: no leftovers" "$(leftovers "$r")" ""
sqlite3 "$db" 'DROP VIEW phoneprov_build'

# ---- a directory that cannot be created: nothing written --------------------------------
r2=$(mkroot blocked)
use_templates "$r2" desk
cat >"$r2/mnt/kd/phoneprov/templates/blocked.conf" <<'T'
[general]
prov_path=/mnt/kd/blocker/sub
[phoneprov]
x=@EXT@
T
printf 'desk 00:0b:82:11:22:33 201 pw1\n' >"$T_WORK/blocked.conf"
ptc_run "$r2" -q "$T_WORK/blocked.conf"         # a previous generation
echo 'a file, not a directory' >"$r2/mnt/kd/blocker"
g=$(snapshot "$r2")
printf 'desk 00:0b:82:11:22:33 201 NEWPW\nblocked 00:0b:82:11:22:44 202 pw2\n' >"$T_WORK/blocked.conf"
rcap "$r2" -f "$T_WORK/blocked.conf"
expect_eq "blocked directory: status" "$RC" 1
expect_eq "blocked directory: message" "$ERR" "ptc: error: cannot create directory $r2/mnt/kd/blocker/sub: Not a directory [io]
ptc: nothing was written: fix the errors above and run again.
"
expect_eq "blocked directory: tree untouched" "$(snapshot "$r2")" "$g"
expect_eq "blocked directory: no leftovers" "$(leftovers "$r2")" ""

# ---- unchanged files keep their mtime; changed ones get a new one -------------------------
outs=$(cd "$r/mnt/kd" && find asterisk phoneprov -type f ! -path 'phoneprov/templates/*' | sort)
for f in $outs; do touch -d '2001-01-01 00:00:00' "$r/mnt/kd/$f"; done
old=$(stat -c %Y "$r/mnt/kd/phoneprov/acme/000b82112233.cfg")
printf 'desk 00:0b:82:11:22:33 201 pw1\ndesk 00:0b:82:11:22:44 202 CHANGED\ndesk 00:0b:82:11:22:55 203 pw3\n' >"$list"
rcap "$r" -f -v "$list"
expect_eq "rerun: status" "$RC" 0
expect_eq "rerun: -v names each file, summary counts" "$OUT" "Generating Phone Provisioning files:
unchanged /mnt/kd/phoneprov/acme/000b82112233.cfg
change /mnt/kd/phoneprov/acme/000b82112244.cfg
unchanged /mnt/kd/phoneprov/acme/000b82112255.cfg
unchanged $INC/astlinux-phoneprov-exten.conf
change $INC/astlinux-phoneprov-sip.conf
Done
ptc: 3 phones: 0 files created, 2 changed, 3 unchanged; 3 table rows (unchanged)
"
for f in phoneprov/acme/000b82112233.cfg phoneprov/acme/000b82112255.cfg asterisk/includes/astlinux-phoneprov-exten.conf; do
  expect_eq "rerun: $f keeps its mtime" "$(stat -c %Y "$r/mnt/kd/$f")" "$old"
done
for f in phoneprov/acme/000b82112244.cfg asterisk/includes/astlinux-phoneprov-sip.conf; do
  check "rerun: $f has a new mtime" test "$(stat -c %Y "$r/mnt/kd/$f")" -gt "$old"
done
check "rerun: the change is there" grep -qx 'user=202_2244 pass=CHANGED name=202' "$r/mnt/kd/phoneprov/acme/000b82112244.cfg"
expect_eq "rerun: no leftovers" "$(leftovers "$r")" ""
# identical rerun: everything unchanged
rcap "$r" -f "$list"
expect_eq "identical rerun: summary" "$(tail -1 "$T_WORK/.out")" "ptc: 3 phones: 0 files created, 0 changed, 5 unchanged; 3 table rows (unchanged)"

# ---- the lock: a run waits for the holder -------------------------------------------------
# The lock is flock(2) on the database's directory (so taking it creates no
# file); flock(1) takes the same lock.
if command -v flock >/dev/null; then
  rm -f "$T_WORK/held" "$T_WORK/released"
  flock "$(dirname "$db")" sh -c "touch '$T_WORK/held'; sleep 1; touch '$T_WORK/released'" &
  holder=$!
  for _ in $(seq 50); do [ -e "$T_WORK/held" ] && break; sleep 0.05; done
  ptc_run "$r" -q -f "$list"
  check "lock: the run succeeded" test $? -eq 0
  check "lock: the run finished after the holder let go" test -e "$T_WORK/released"
  wait "$holder"
fi

# ---- two runs at once on one root: both succeed, the result is one generation -----------
r3=$(mkroot concurrent)
use_templates "$r3" desk
many=$T_WORK/many.conf
for i in $(seq 1 200); do printf 'desk 00:0b:82:00:%02x:%02x %d pw%d\n' $((i / 256)) $((i % 256)) $((1000 + i)) "$i"; done >"$many"
ptc_run "$r3" -q -f "$many" & p1=$!
ptc_run "$r3" -q -f "$many" & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
expect_eq "concurrent: both succeed" "$s1 $s2" "0 0"
expect_eq "concurrent: 200 provisioning files" "$(find "$r3/mnt/kd/phoneprov/acme" -type f | wc -l)" 200
expect_eq "concurrent: each phone once in the sip file" "$(grep -c '^\[' "$r3$INC/astlinux-phoneprov-sip.conf")" 200
expect_eq "concurrent: table ids 1..200" "$(sqlite3 "$r3/mnt/kd/asterisk-odbc.sqlite3" 'SELECT count(*), min(id), max(id), count(DISTINCT mac_addr) FROM phoneprov')" "200|1|200|200"
expect_eq "concurrent: no leftovers" "$(leftovers "$r3")" ""

# ---- recovery: an interrupted run is undone (before its commit point) ... ------------------
acme=$r/mnt/kd/phoneprov/acme
gen=$(snapshot "$r")
echo 'half-written' >"$acme/.000b82112233.cfg.ptc-AbC123"
printf '%s\n' "$acme" >"$r/mnt/kd/.ptc-intent"
rcap "$r" -f -q "$list"
expect_eq "roll back: status" "$RC" 0
expect_eq "roll back: temp file and intent removed" "$(leftovers "$r")" ""
expect_eq "roll back: the generation is the same" "$(snapshot "$r" | grep -v asterisk-odbc)" "$(echo "$gen" | grep -v asterisk-odbc)"
# ... or finished (after it): the renames of a complete commit record are carried out.
echo 'committed' >"$acme/.extra.cfg.ptc-XyZ789"
printf 'R\t%s\t%s\nS\t0\nEND\n' "$acme/.extra.cfg.ptc-XyZ789" "$acme/extra.cfg" >"$r/mnt/kd/.ptc-commit"
rcap "$r" -f -v "$list"
expect_eq "roll forward: status" "$RC" 0
check "roll forward: reported" grep -q '^ptc: warning: finishing an interrupted run' "$T_WORK/.err"
expect_file "roll forward: renamed into place" "$acme/extra.cfg" $'committed\n'
expect_eq "roll forward: no leftovers" "$(leftovers "$r")" ""
# A dry run does not recover (it writes nothing): the records stay for the next real run.
printf '%s\n' "$acme" >"$r/mnt/kd/.ptc-intent"
echo x >"$acme/.y.cfg.ptc-QwE456"
ptc_run "$r" -f -n "$list" >/dev/null
check "dry run: leaves the records alone" test -e "$r/mnt/kd/.ptc-intent" -a -e "$acme/.y.cfg.ptc-QwE456"
ptc_run "$r" -f -q "$list"
expect_eq "next real run: cleaned" "$(leftovers "$r")" ""

finish
