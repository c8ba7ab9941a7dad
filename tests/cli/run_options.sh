#!/usr/bin/env bash
# ptc run, issue 3: -h, -q, -v, --dry-run, --db, --cache-dir, --root, and
# the progress output (the original's dots and "Done", a live count on a
# terminal).
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# ---- -h / --help ---------------------------------------------------------------------
for h in -h --help; do
  rcap "$T_WORK" "$h"
  expect_eq "$h: status" "$RC" 0
  expect_eq "$h: stderr" "$ERR" ""
  for o in '-a, --auto-pass' '-A, --only-pass' '-f, --force-overwrite' '-h, --help' '-i, --if-name' \
           '-p, --partial' '-r, --auto-reload' '-R, --only-reload' '--root DIR' '--db FILE' \
           '--cache-dir DIR' '--dry-run' '-q, --quiet' '-v, --verbose'; do
    check "$h lists $o" grep -qF -- "$o" "$T_WORK/.out"
  done
done
check "-h: the usage line" grep -qx 'Usage: ptc run \[options...\] massdeployment.conf' "$T_WORK/.out"
check "-h: exit statuses" grep -qF '3 a password is missing (use -a).' "$T_WORK/.out"

r=$(mkroot options)
use_templates "$r" desk
list=$T_WORK/options.conf
printf 'desk 00:0b:82:11:22:33 201 pw1\ndesk 00:0b:82:11:22:44 202 pw2\n' >"$list"

# ---- --dry-run on a fresh tree: says what it would do, writes nothing ------------------
before=$(snapshot "$r")
for n in -n --dry-run; do
  rcap "$r" "$n" "$list"
  expect_eq "$n fresh: status" "$RC" 0
  expect_eq "$n fresh: stdout" "$OUT" "Generating Phone Provisioning files:
would create /mnt/kd/phoneprov/acme/000b82112233.cfg
would create /mnt/kd/phoneprov/acme/000b82112244.cfg
would create $INC/astlinux-phoneprov-exten.conf
would create $INC/astlinux-phoneprov-sip.conf
ptc: 2 phones: 4 files created, 0 changed, 0 unchanged; 0 table rows (dry run: nothing written)
"
  expect_eq "$n fresh: nothing written (not even the database)" "$(snapshot "$r")" "$before"
done

# ---- -q: nothing on stdout ------------------------------------------------------------
rcap "$r" -q "$list"
expect_eq "-q: status" "$RC" 0
expect_eq "-q: stdout" "$OUT" ""
expect_eq "-q: stderr" "$ERR" ""

# ---- --dry-run after a run: changed / unchanged, tree and db untouched ---------------
printf 'desk 00:0b:82:11:22:33 201 pw1\ndesk 00:0b:82:11:22:44 202 NEW\ndesk 00:0b:82:11:22:55 203 pw3\n' >"$list"
before=$(snapshot "$r") tbl=$(table "$r")
rcap "$r" --dry-run "$list"
expect_eq "dry run: status (no -f needed to look)" "$RC" 2
rcap "$r" --dry-run -f "$list"
expect_eq "dry run -f: status" "$RC" 0
expect_eq "dry run -f: stdout" "$OUT" "Generating Phone Provisioning files:
unchanged /mnt/kd/phoneprov/acme/000b82112233.cfg
would change /mnt/kd/phoneprov/acme/000b82112244.cfg
would create /mnt/kd/phoneprov/acme/000b82112255.cfg
would change $INC/astlinux-phoneprov-exten.conf
would change $INC/astlinux-phoneprov-sip.conf
ptc: 3 phones: 1 file created, 3 changed, 1 unchanged; 0 table rows (dry run: nothing written)
"
expect_eq "dry run -f: tree and db untouched" "$(snapshot "$r")" "$before"
expect_eq "dry run -f: table untouched" "$(table "$r")" "$tbl"
expect_eq "dry run -f: no leftovers" "$(leftovers "$r")" ""
# -q with --dry-run prints nothing either
rcap "$r" -n -f -q "$list"
expect_eq "dry run -q: stdout" "$OUT" ""

# ---- the progress: the original's dots and Done when stdout is not a terminal --------
rcap "$r" -f "$list"
expect_eq "dots: one per phone, then Done" "$OUT" "Generating Phone Provisioning files:
...Done
ptc: 3 phones: 1 file created, 3 changed, 1 unchanged; 3 table rows
"
# on a terminal: a live count instead of dots (needs script(1))
if command -v script >/dev/null; then
  tty_out=$(script -qc "'$PTC' run --root '$r' --cache-dir '$T_WORK/cache' -f '$list'" /dev/null </dev/null | tr -d '\r')
  check "tty: a count of phones" grep -q '3/3 phones' <<<"$tty_out"
  check "tty: no dots" bash -c '! grep -q "^\.\.\." <<<"$1"' _ "$tty_out"
  check "tty: Done" grep -qx 'Done' <<<"$tty_out"
fi

# ---- --db FILE: the table goes there (used as given, like --rc) ------------------------
r2=$(mkroot dbopt)
use_templates "$r2" desk
alt=$T_WORK/alt/phones.sqlite3
rcap "$r2" -q --db "$alt" "$list"
expect_eq "--db: status" "$RC" 0
expect_eq "--db: rows in FILE" "$(sqlite3 "$alt" 'SELECT count(*) FROM phoneprov')" 3
check "--db: no default database" test ! -e "$r2/mnt/kd/asterisk-odbc.sqlite3"
check "--db: nothing under the root at FILE's path" test ! -e "$r2$alt"
expect_eq "--db: no commit records left beside it" "$(leftovers "$T_WORK/alt")" ""

# ---- --cache-dir DIR: compiled templates are kept there and reused ------------------------
cache=$T_WORK/mycache
r3=$(mkroot cache)
use_templates "$r3" desk
"$PTC" run --root "$r3" --cache-dir "$cache" -q -v "$list" 2>"$T_WORK/cache.err" >/dev/null
check "--cache-dir: status" test $? -eq 0
check "--cache-dir: -v names the store" grep -qx "ptc: cache store for $r3/mnt/kd/phoneprov/templates/desk.conf" "$T_WORK/cache.err"
check "--cache-dir: entries written" test -n "$(find "$cache" -type f 2>/dev/null)"
"$PTC" run --root "$r3" --cache-dir "$cache" -q -f -v "$list" 2>"$T_WORK/cache.err" >/dev/null
check "--cache-dir: second run" test $? -eq 0
expect_eq "--cache-dir: second run has no cache miss" "$(grep -ci 'miss' "$T_WORK/cache.err")" 0

finish
