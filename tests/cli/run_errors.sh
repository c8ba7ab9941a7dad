#!/usr/bin/env bash
# ptc run, issue 3: errors.  Exit 1 (every problem of the list reported as
# FILE:LINE:COL, nothing written), 2 (an output exists, no -f), 3 (a
# password is missing, no -a); each message says what to do.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# ---- exit 1: every bad line reported, nothing written ---------------------------
r=$(mkroot bad)
use_templates "$r" desk byname updir
list=$T_WORK/bad.conf
cat >"$list" <<'L'
# every phone line below is wrong
desk 00:0b:82:11:22:zz 201 pw1
desk 00:0b:82:11:22:3 202 pw2
desk 00:0b:82:11:22:34 2a1 pw3
desk 00:0b:82:11:22:35 203 pw4 bad'acct
desk 00:0b:82:11:22:36 204 pw5
desk 00-0b-82-11-22-36 205 pw6
desk 000B82112237 204 pw7 204_2236
nosuch 00:0b:82:11:22:38 207 pw8
desk 00:0b:82:11:22:39
byname 00:00:00:00:00:01 301/x pw9
byname 00:00:00:00:00:02 302/x pw10
byname 00:00:00:00:00:03 303;304 pw11 301
byname 00:00:00:00:00:04 305/a/b pw12
byname 00:00:00:00:00:05 306/.. pw13
updir 00:00:00:00:00:06 307 pw14
desk 00:0b:82:11:22:40 207;3x8 pw15
desk 00:0b:82:11:22:41 208 pw16 extra field
desk 00:0b:82:11:22:42 209
L
want=$(cat <<'W'
@L@:2:6: error: invalid MAC address: expected six hex pairs like 00:11:22:aa:bb:cc [bad-mac]
    desk ***************** 201 ***
         ^
@L@:3:6: error: invalid MAC address: expected six hex pairs like 00:11:22:aa:bb:cc [bad-mac]
    desk **************** 202 ***
         ^
@L@:4:24: error: invalid extension: use digits, `*`, `#` and `+` [bad-extension]
    desk 00:0b:82:11:22:34 *** ***
                           ^
@L@:5:32: error: invalid account: use letters, digits and ._-+*#@!~%=$ [bad-account]
    desk 00:0b:82:11:22:35 203 *** ********
                                   ^
@L@:7:6: error: MAC address 00:0b:82:11:22:36 is also on line 6 [duplicate-mac]
    desk 00-0b-82-11-22-36 205 ***
         ^
@L@:8:19: error: extension 204 is also on line 6: the dialplan would have two `exten => 204` [duplicate-ext]
    desk 000B82112237 204 *** 204_2236
                      ^
@L@:8:27: error: SIP account "204_2236" is also the account of line 6 [duplicate-account]
    desk 000B82112237 204 *** 204_2236
                              ^
@L@:9:1: error: template "nosuch" not found: @R@/mnt/kd/phoneprov/templates/nosuch.conf: No such file or directory [unknown-template]
    nosuch 00:0b:82:11:22:38 207 ***
    ^
@L@:10:23: error: expected `template mac extension password [account]`, got 2 fields [missing-field]
    desk 00:0b:82:11:22:39
                          ^
@L@:12:1: error: provisioning file /mnt/kd/phoneprov/byname/x is also written for line 11 [duplicate-file]
    byname 00:00:00:00:00:02 302/x ****
    ^
@L@:13:39: error: SIP account "301" is also the account of line 11 [duplicate-account]
    byname 00:00:00:00:00:03 303;304 **** 301
                                          ^
@L@:14:1: error: refusing the [phoneprov] output path of this phone: a `/` from phone data would choose the directory [unsafe-path]
    byname 00:00:00:00:00:04 305/a/b ****
    ^
@L@:15:1: error: refusing the [phoneprov] output path of this phone: a `..` in the path [unsafe-path]
    byname 00:00:00:00:00:05 306/.. ****
    ^
@L@:16:1: error: refusing the [phoneprov] output path of this phone: a `..` in the path [unsafe-path]
    updir 00:00:00:00:00:06 307 ****
    ^
@L@:17:28: error: invalid extension: use digits, `*`, `#` and `+` [bad-extension]
    desk 00:0b:82:11:22:40 ******* ****
                               ^
@L@:18:39: error: unexpected field 6: a line has at most 5 fields [extra-field]
    desk 00:0b:82:11:22:41 208 **** extra *****
                                          ^
@L@:19:27: error: no password for 00:0b:82:11:22:42 (extension 209) [no-password]
    desk 00:0b:82:11:22:42 209
                              ^
ptc: nothing was written: fix the errors above and run again.
W
)
want=${want//@L@/$list}; want=${want//@R@/$r}
before=$(snapshot "$r")
rcap "$r" -f "$list"
expect_eq "bad list: status 1" "$RC" 1
expect_eq "bad list: every error, file:line:col, passwords masked" "$ERR" "$want"$'\n'
expect_eq "bad list: stdout" "$OUT" ""
expect_eq "bad list: nothing written" "$(snapshot "$r" | grep -v asterisk-odbc)" "$(echo "$before" | grep -v asterisk-odbc)"
expect_eq "bad list: no table" "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" "SELECT name FROM sqlite_master WHERE name LIKE 'phoneprov%'")" ""
expect_eq "bad list: no temporary file" "$(leftovers "$r")" ""

# MAC forms accepted: aa:bb.., aa-bb-.., aabbcc..; normalised to colons.
r=$(mkroot macs)
use_templates "$r" desk
list=$T_WORK/macs.conf
printf 'desk 00:0B:82:11:22:01 201 p\ndesk 00-0b-82-11-22-02 202 p\ndesk 000b82112203 203 p\n' >"$list"
ptc_run "$r" -q "$list"; check "macs: status 0" test $? -eq 0
expect_eq "macs: normalised" "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" 'SELECT mac_addr FROM phoneprov ORDER BY id')" \
"00:0B:82:11:22:01
00:0b:82:11:22:02
00:0b:82:11:22:03"
check "macs: file names from the MAC" test -f "$r/mnt/kd/phoneprov/acme/000b82112202.cfg" -a -f "$r/mnt/kd/phoneprov/acme/000b82112203.cfg"
# A second line may name another phone's account (shared line appearance);
# only two phones with the same first-line account are an error.
r=$(mkroot shared)
use_templates "$r" byname
list=$T_WORK/shared.conf
printf 'byname 00:00:00:00:00:01 301/a pw\nbyname 00:00:00:00:00:02 302/b;301 pw\n' >"$list"
ptc_run "$r" -q "$list"; check "shared line appearance: allowed" test $? -eq 0
# The same MAC written differently is still a duplicate.
printf 'byname 00:00:00:00:00:0a 301/a pw\nbyname 00-00-00-00-00-0A 302/b pw\n' >"$list"
rcap "$r" -f "$list"
expect_eq "duplicate MAC across forms: status" "$RC" 1
check "duplicate MAC across forms: names both lines" grep -q "^$list:2:8: error: MAC address 00:00:00:00:00:0A is also on line 1 \[duplicate-mac\]" "$T_WORK/.err"

# ---- exit 2: an output exists and -f is not given -------------------------------
r=$(mkroot exists)
use_templates "$r" desk
list=$T_WORK/exists.conf
printf 'desk 00:0b:82:11:22:33 201 pw1\n' >"$list"
ptc_run "$r" -q "$list"; check "exists: first run" test $? -eq 0
echo 'desk 00:0b:82:11:22:44 202 pw2' >>"$list"
before=$(snapshot "$r")
rcap "$r" "$list"
expect_eq "exists: status 2" "$RC" 2
expect_eq "exists: message" "$ERR" "ptc: error: file \"$r$INC/astlinux-phoneprov-exten.conf\" exists [exists]
ptc: error: file \"$r$INC/astlinux-phoneprov-sip.conf\" exists [exists]
ptc: error: file \"$r/mnt/kd/phoneprov/acme/000b82112233.cfg\" exists [exists]
ptc: use -f or --force-overwrite to overwrite them.
Files left unchanged.
"
expect_eq "exists: nothing written" "$(snapshot "$r")" "$before"
ptc_run "$r" -q -f "$list"; check "exists: -f overwrites" test $? -eq 0
check "exists: new phone written" test -f "$r/mnt/kd/phoneprov/acme/000b82112244.cfg"
# Errors in the list come first: status 1, not 2.
echo 'desk 00:0b:82:11:22:zz 203 pw3' >>"$list"
rcap "$r" "$list"
expect_eq "exists + bad line: status 1" "$RC" 1

# ---- exit 3: a password is missing and -a is not given ----------------------------
r=$(mkroot nopass)
use_templates "$r" desk
list=$T_WORK/nopass.conf
printf 'desk 00:0b:82:11:22:33 201 s3cretPW1\ndesk 00:0b:82:11:22:44 202/No_Password\ndesk 00:0b:82:11:22:55 203;204 ;pw2\n' >"$list"
cp "$list" "$T_WORK/nopass.orig"
rcap "$r" "$list"
expect_eq "nopass: status 3" "$RC" 3
expect_eq "nopass: message" "$ERR" "$list:2:39: error: no password for 00:0b:82:11:22:44 (extension 202) [no-password]
    desk 00:0b:82:11:22:44 202/No_Password
                                          ^
$list:3:32: error: no password for 00:0b:82:11:22:55 (extension 203) [no-password]
    desk 00:0b:82:11:22:55 203;204 ****
                                   ^
ptc: use -a or --auto-pass to generate the missing password(s), or -A to only add them to the phone list.
"
expect_eq "nopass: nothing written" "$(cd "$r/mnt/kd" && find . -path ./phoneprov/templates -prune -o -type f ! -name asterisk-odbc.sqlite3 -print)" ""
expect_eq "nopass: no table" "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" "SELECT name FROM sqlite_master")" ""
check "nopass: list untouched" cmp -s "$list" "$T_WORK/nopass.orig"
# A missing password and another error: status 1, both reported.
echo 'desk 00:0b:82:11:22:66 2x6 pw' >>"$list"
rcap "$r" "$list"
expect_eq "nopass + bad line: status 1" "$RC" 1
expect_eq "nopass + bad line: three errors" "$(grep -c ': error: ' "$T_WORK/.err")" 3

# ---- exit 1: command line and files ------------------------------------------------
r=$(mkroot usage)
rcap "$r" "$T_WORK/no-such-list.conf"
expect_eq "missing list: status 1" "$RC" 1
expect_eq "missing list: message" "$ERR" "ptc: error: file not found: $T_WORK/no-such-list.conf [io]
"
rcap "$r" "$T_WORK"
expect_eq "directory as list: status 1" "$RC" 1
expect_eq "directory as list: message" "$ERR" "ptc: error: not a regular file: $T_WORK [io]
"
rcap "$r"
expect_eq "no list: status 1" "$RC" 1
check "no list: usage on stderr" grep -q '^Usage: ptc run \[options...\] massdeployment.conf$' "$T_WORK/.err"
rcap "$r" --no-such-option x.conf
expect_eq "unknown option: status 1" "$RC" 1
check "unknown option: usage on stderr" grep -q '^Usage: ptc run' "$T_WORK/.err"
rcap "$r" a.conf b.conf
expect_eq "two lists: status 1" "$RC" 1
expect_eq "two lists: message" "$ERR" "ptc run: one phone list only (got 'b.conf' too)
"
# An output path that exists as a directory is refused before anything is written.
r=$(mkroot notfile)
use_templates "$r" desk
list=$T_WORK/notfile.conf
printf 'desk 00:0b:82:11:22:33 201 pw1\n' >"$list"
mkdir -p "$r/mnt/kd/phoneprov/acme/000b82112233.cfg"
rcap "$r" -f "$list"
expect_eq "output is a directory: status 1" "$RC" 1
expect_eq "output is a directory: message" "$ERR" "$list:1:1: error: output /mnt/kd/phoneprov/acme/000b82112233.cfg exists and is not a regular file: move it away [not-a-file]
    desk 00:0b:82:11:22:33 201 ***
    ^
ptc: nothing was written: fix the errors above and run again.
"
expect_eq "output is a directory: nothing written" "$(find "$r/mnt/kd/asterisk" 2>/dev/null; leftovers "$r")" ""

# A line without its extension: the field in its place may be the password.
# It is never shown: not in the message, the caret line or lint's JSON.
r=$(mkroot secret)
use_templates "$r" desk
list=$T_WORK/secret.conf
printf 'desk 00:0b:82:11:22:33 SecretPw1\ndesk SecretPw2 201 x\n' >"$list"
rcap "$r" -f "$list"
expect_eq "misplaced password: status 1" "$RC" 1
if grep -q 'SecretPw' "$T_WORK/.err" "$T_WORK/.out"; then fail "misplaced password: shown by ptc run"; else ok; fi
check "misplaced password: the field is masked" grep -q '^    desk 00:0b:82:11:22:33 \*\*\*\*\*\*\*\*\*$' "$T_WORK/.err"
out=$("$PTC" lint --root "$r" --templates "$r/mnt/kd/phoneprov/templates" "$list" 2>&1; \
      "$PTC" lint --format=json --root "$r" --templates "$r/mnt/kd/phoneprov/templates" "$list" 2>&1)
if grep -q 'SecretPw' <<<"$out"; then fail "misplaced password: shown by ptc lint"; else ok; fi

# One extension twice in a dialplan file: refused, both lines named.  On one
# phone (210;210 on a two-line template) and on two phones.
r=$(mkroot dupext)
cp "$REPO_DIR/templates/yealink-t4x-2line.conf" "$r/mnt/kd/phoneprov/templates/"
list=$T_WORK/dupext.conf
printf 'yealink-t4x-2line 00:15:65:00:00:01 210;210 pw1\nyealink-t4x-2line 00:15:65:00:00:02 211;212 pw2\nyealink-t4x-2line 00:15:65:00:00:03 212;213 pw3\n' >"$list"
rcap "$r" -f "$list"
expect_eq "duplicate extension: status 1" "$RC" 1
check "duplicate extension on one phone" grep -q "^$list:1:41: error: extension 210 is on this line twice: its dialplan would have two \`exten => 210\` \[duplicate-ext\]$" "$T_WORK/.err"
check "duplicate extension on two phones" grep -q "^$list:3:37: error: extension 212 is also on line 2: the dialplan would have two \`exten => 212\` \[duplicate-ext\]$" "$T_WORK/.err"
expect_eq "duplicate extension: nothing written" "$(find "$r/mnt/kd" -newer "$list" ! -type d | grep -v templates)" ""

# A refused run creates nothing: not even an empty database file.
r=$(mkroot refused)
use_templates "$r" desk
list=$T_WORK/refused.conf
printf 'desk 00:0b:82:11:22:33 201\n' >"$list"
rcap "$r" "$list"
expect_eq "refused run: status 3" "$RC" 3
expect_eq "refused run: no file created" "$(find "$r/mnt/kd" ! -type d -newer "$list")" ""
rcap "$r" --db "$r/var/lib/ptc/new.sqlite3" "$list"
expect_eq "refused run: no directory created for --db" "$(ls "$r")" "etc
mnt"

finish
