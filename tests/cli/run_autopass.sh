#!/usr/bin/env bash
# ptc run, issue 3: -a/--auto-pass and -A/--only-pass.  A missing password
# becomes 16 base64 characters written into the phone list; every other
# byte of the file stays, and so do its mode and owner.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

B64='[A-Za-z0-9+/]{16}'
# masked FILE: the file with each generated password replaced by @PW@.
masked() { sed -E "s#(^|[ \t;])$B64([ \t;\r]|\$)#\1@PW@\2#g" "$1"; echo x; }

r=$(mkroot onlypass)
use_templates "$r" desk
list=$T_WORK/onlypass.conf
# comments, CRLF, tabs, trailing blanks, a given password, an empty first
# entry of a `;` list, an indented comment, no final newline
printf '## Format:\r\n# desk 00:0b:82:11:22:00 200\r\n\tdesk  00:0b:82:11:22:33\t201/A_B  \r\n\r\ndesk 00:0b:82:11:22:34 202 given\r\n  # indented 203\r\ndesk 00:0b:82:11:22:35 203;204 ;pw2\t\r\ndesk 00:0b:82:11:22:36 205' >"$list"
printf '## Format:\r\n# desk 00:0b:82:11:22:00 200\r\n\tdesk  00:0b:82:11:22:33\t201/A_B @PW@  \r\n\r\ndesk 00:0b:82:11:22:34 202 given\r\n  # indented 203\r\ndesk 00:0b:82:11:22:35 203;204 @PW@;pw2\t\r\ndesk 00:0b:82:11:22:36 205 @PW@x' >"$T_WORK/onlypass.want"
chmod 0600 "$list"
if [ "$(id -u)" = 0 ]; then chown 65534:65534 "$list"; fi
owner=$(stat -c %u:%g "$list")
rcap "$r" -A "$list"
expect_eq "-A: status" "$RC" 0
expect_eq "-A: stdout" "$OUT" "Auto-generating password(s):
Missing password(s) were added to input file.
"
expect_eq "-A: stderr" "$ERR" ""
expect_eq "-A: every other byte kept" "$(masked "$list")" "$(cat "$T_WORK/onlypass.want")"
expect_eq "-A: three passwords of 16 base64 characters" "$(grep -Eo "$B64" "$list" | wc -l)" 3
expect_eq "-A: all different" "$(grep -Eo "$B64" "$list" | sort -u | wc -l)" 3
expect_eq "-A: mode kept" "$(mode "$list")" 600
expect_eq "-A: owner kept" "$(stat -c %u:%g "$list")" "$owner"
expect_eq "-A: nothing generated" "$(cd "$r/mnt/kd" && find . -path ./phoneprov/templates -prune -o -print | sort | tr "\n" " ")" ". ./phoneprov "
expect_eq "-A: no temporary file beside the list" "$(find "$T_WORK" -maxdepth 1 -name '.*ptc-*')" ""
# Nothing missing: the file is left alone (bytes and mtime).
touch -d '2001-01-01 00:00:00' "$list"
sum=$(sha256sum <"$list"); mt=$(stat -c %Y "$list")
rcap "$r" -A "$list"
expect_eq "-A again: status" "$RC" 0
expect_eq "-A again: stdout" "$OUT" "Auto-generating password(s):
No missing password(s), input file left unchanged.
"
expect_eq "-A again: bytes" "$(sha256sum <"$list")" "$sum"
expect_eq "-A again: mtime" "$(stat -c %Y "$list")" "$mt"
# The list now runs without -a; the passwords are the ones written.
rcap "$r" -q "$list"
expect_eq "after -A: runs" "$RC" 0
pw=$(sed -n 3p "$list" | grep -Eo "$B64")
check "after -A: provisioning file has the written password" grep -qxF "user=201_2233 pass=$pw name=A B" "$r/mnt/kd/phoneprov/acme/000b82112233.cfg"
pw3=$(sed -n 7p "$list" | grep -Eo "$B64")
check "after -A: ';pw2' got its first entry" grep -qxF "secret=$pw3" "$r$INC/astlinux-phoneprov-sip.conf"

# ---- -a: add, then generate ---------------------------------------------------------
r=$(mkroot autopass)
use_templates "$r" desk
list=$T_WORK/autopass.conf
printf '# two phones\ndesk 00:0b:82:11:22:33 201\ndesk 00:0b:82:11:22:44 202 mine\n' >"$list"
chmod 0640 "$list"
rcap "$r" -a "$list"
expect_eq "-a: status" "$RC" 0
expect_eq "-a: stdout" "$OUT" "Auto-generating password(s):
Missing password(s) were added to input file.
Generating Phone Provisioning files:
..Done
ptc: 2 phones: 4 files created, 0 changed, 0 unchanged; 2 table rows
"
expect_eq "-a: list" "$(masked "$list")" "# two phones
desk 00:0b:82:11:22:33 201 @PW@
desk 00:0b:82:11:22:44 202 mine
x"
expect_eq "-a: mode kept" "$(mode "$list")" 640
pw=$(grep -Eo "$B64" "$list")
expect_file "-a: the generated password is used" "$r/mnt/kd/phoneprov/acme/000b82112233.cfg" "server=10.0.0.1
user=201_2233 pass=$pw name=201
"
# -a --dry-run adds nothing and says so; the missing password stops the run.
printf 'desk 00:0b:82:11:22:66 206\n' >"$T_WORK/dry.conf"
cp "$T_WORK/dry.conf" "$T_WORK/dry.orig"
rcap "$r" -a --dry-run "$T_WORK/dry.conf"
expect_eq "-a --dry-run: status 3" "$RC" 3
expect_eq "-a --dry-run: stdout" "$OUT" "Auto-generating password(s):
Dry run: no password added, input file left unchanged.
"
check "-a --dry-run: list untouched" cmp -s "$T_WORK/dry.conf" "$T_WORK/dry.orig"
# -a on a list with a bad line: the passwords are added, the run still fails.
printf 'desk 00:0b:82:11:22:55 203\ndesk 00:0b:82:11:22:zz 204\n' >"$list"
rcap "$r" -a -f "$list"
expect_eq "-a + bad MAC: status 1" "$RC" 1
expect_eq "-a + bad MAC: both lines got a password" "$(grep -Ec " $B64\$" "$list")" 2
check "-a + bad MAC: nothing generated for the good line" test ! -e "$r/mnt/kd/phoneprov/acme/000b82112255.cfg"

finish
