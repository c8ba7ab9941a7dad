#!/usr/bin/env bash
# A rerun that would write what is already there writes nothing: files
# keep their mtime, and the phoneprov table (and the database file) is left
# alone; any difference in the rows rebuilds the table.
source "$(dirname "$0")/../lib.sh"

root=$(mkroot rerun)
cp "$SHARED/conformance/01-basic/input/templates/deskphone.conf" "$root/mnt/kd/phoneprov/templates/"
list=$T_WORK/list.conf
printf 'deskphone 00:0b:82:11:22:33 201/Alice pw1\ndeskphone 00:0b:82:11:22:44 202 pw2\n' >"$list"
db=$root/mnt/kd/asterisk-odbc.sqlite3

check "first run" ptc_run "$root" -q "$list"
touch -d '2001-01-01 00:00:00' "$db"
before=$(stat -c %Y "$db")
out=$(ptc_run "$root" -f "$list" 2>&1)
expect_eq "rerun: the summary says the table is unchanged" \
  "$(echo "$out" | tail -1)" "ptc: 2 phones: 0 files created, 0 changed, 4 unchanged; 2 table rows (unchanged)"
expect_eq "rerun: the database file is not touched" "$(stat -c %Y "$db")" "$before"

sqlite3 "$db" "DELETE FROM phoneprov WHERE id = 2"
out=$(ptc_run "$root" -f "$list" 2>&1)
expect_eq "a row deleted by hand: the table is rebuilt" \
  "$(sqlite3 "$db" 'SELECT count(*) FROM phoneprov')" "2"
expect_eq "... and the summary does not call it unchanged" \
  "$(echo "$out" | tail -1)" "ptc: 2 phones: 0 files created, 0 changed, 4 unchanged; 2 table rows"

printf 'deskphone 00:0b:82:11:22:33 201/Alicia pw1\ndeskphone 00:0b:82:11:22:44 202 pw2\n' >"$list"
check "a CallerID name changed" ptc_run "$root" -q -f "$list"
expect_eq "the table holds the new name" \
  "$(sqlite3 "$db" "SELECT cid_name FROM phoneprov WHERE ext = '201'")" "Alicia"

# A row longer than the hash's stack buffer (a 1,000-character CallerID).
long=$(printf 'N%.0s' $(seq 1000))
printf 'deskphone 00:0b:82:11:22:33 201/%s pw1\n' "$long" >"$list"
check "a long CallerID name" ptc_run "$root" -q -f "$list"
out=$(ptc_run "$root" -f "$list" 2>&1)
expect_eq "... and its rerun leaves the table alone" "$(echo "$out" | tail -1)" \
  "ptc: 1 phone: 0 files created, 0 changed, 3 unchanged; 1 table row (unchanged)"
finish
