#!/usr/bin/env bash
# ptc run, issue 3: what is written.  A [phoneprov] file per phone; the
# [dialplan]..[dialplan6], [sip] and [pjsip] include files with the
# original's headers; the SQLite phoneprov table; modes; values written
# literally; paths inside files without --root.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# dp_hdr FILE [CONTEXT]: the original's dialplan header and context line
# (used in "$(...)", which drops the header's final blank line: without a
# context the caller writes it).
dp_hdr() {
  printf ';\n; ###################################################\n; ### AstLinux auto-provisioned IP-Phone dialplan ###\n; ###################################################\n;\n; Include in your extensions.conf file by using:\n; #include %s/%s\n\n' "$INC" "$1"
  if [ -n "${2:-}" ]; then printf '[%s]' "$2"; fi
}

# ---- every include context, pjsip, dialplan contexts, modes under umask 000 -----
r=$(mkroot incl)
use_templates "$r" incl
list=$T_WORK/incl.conf
printf 'incl 00:00:00:00:00:01 101 p1\nincl 00:00:00:00:00:02 102 p2 a102\n' >"$list"
(umask 000; ptc_run "$r" "$list" >"$T_WORK/incl.out")
check "incl: status" test $? -eq 0
expect_file "incl: stdout" "$T_WORK/incl.out" "Generating Phone Provisioning files:
..Done
ptc: 2 phones: 9 files created, 0 changed, 0 unchanged; 2 table rows
"
expect_file "incl: [dialplan] with dialplan_context" "$r$INC/astlinux-phoneprov-exten.conf" \
"$(dp_hdr astlinux-phoneprov-exten.conf phones)
exten => 101,1,Dial(PJSIP/101)
exten => 102,1,Dial(PJSIP/a102)
"
expect_file "incl: [dialplan2]" "$r$INC/astlinux-phoneprov-exten2.conf" "$(dp_hdr astlinux-phoneprov-exten2.conf)

d2 101
d2 102
"
expect_file "incl: [dialplan3] with dialplan3_context" "$r$INC/astlinux-phoneprov-exten3.conf" \
"$(dp_hdr astlinux-phoneprov-exten3.conf blf)
exten => 101,hint,PJSIP/101
exten => 102,hint,PJSIP/a102
"
expect_file "incl: [dialplan4]" "$r$INC/astlinux-phoneprov-exten4.conf" "$(dp_hdr astlinux-phoneprov-exten4.conf)

d4 101
d4 102
"
expect_file "incl: [dialplan5]" "$r$INC/astlinux-phoneprov-exten5.conf" "$(dp_hdr astlinux-phoneprov-exten5.conf)

d5 101
d5 102
"
expect_file "incl: [dialplan6] in dialplan6_file" "$r$INC/custom6.conf" "$(dp_hdr custom6.conf)

d6 101
d6 102
"
expect_file "incl: [pjsip]" "$r$INC/astlinux-phoneprov-pjsip.conf" ';
; ###############################################################
; ### AstLinux auto-provisioned IP-Phone PJSIP configurations ###
; ###############################################################
;
; Include in your pjsip.conf file by using:
; #include /mnt/kd/asterisk/includes/astlinux-phoneprov-pjsip.conf


[101]
type=endpoint

[a102]
type=endpoint

'
expect_file "incl: [phoneprov] phone 1" "$r/mnt/kd/phoneprov/inc/000000000001.cfg" $'p 101\n'
expect_file "incl: [phoneprov] phone 2" "$r/mnt/kd/phoneprov/inc/000000000002.cfg" $'p 102\n'
check "incl: no [sip] file for a template without [sip]" test ! -e "$r$INC/astlinux-phoneprov-sip.conf"
expect_eq "incl: table (sip_driver lower-cased)" "$(table "$r")" "$TABLE_HDR
1	101	101	101	101	1	00:00:00:00:00:01	incl	incl	inc	pjsip
2	102	102	102	a102	1	00:00:00:00:00:02	incl	incl	inc	pjsip"
expect_eq "incl: the original's schema" "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" '.schema phoneprov')" \
"CREATE TABLE IF NOT EXISTS \"phoneprov\" (
  'id' INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  'ext' TEXT DEFAULT '',
  'cid_name' TEXT DEFAULT '',
  'cid_num' TEXT DEFAULT '',
  'account' TEXT DEFAULT '',
  'line' INTEGER DEFAULT 1,
  'mac_addr' TEXT DEFAULT '',
  'template' TEXT DEFAULT '',
  'model' TEXT DEFAULT '',
  'vendor' TEXT DEFAULT '',
  'sip_driver' TEXT DEFAULT ''
);"
# Provisioning and include files: 0640 whatever the umask, never world-readable.
modes=$(cd "$r/mnt/kd" && find asterisk phoneprov -type f ! -path 'phoneprov/templates/*' -printf '%m\n' | sort -u)
expect_eq "incl: every output is 0640 under umask 000" "$modes" 640
# A file left unchanged but world-readable (a tree from the original tool)
# loses the world bits; its bytes and mtime stay.
f=$r/mnt/kd/phoneprov/inc/000000000001.cfg
chmod 0644 "$f"; chmod 0666 "$r$INC/custom6.conf"; touch -d '2001-01-01 00:00:00' "$f"
before=$(stat -c %Y "$f")
ptc_run "$r" -q -f "$list"; check "incl: rerun" test $? -eq 0
expect_eq "incl: unchanged world-readable file -> 0640" "$(mode "$f")" 640
expect_eq "incl: unchanged world-writable include -> 0640" "$(mode "$r$INC/custom6.conf")" 640
expect_eq "incl: its mtime stays" "$(stat -c %Y "$f")" "$before"
(umask 077; ptc_run "$r" -q -f "$list")
expect_eq "incl: 0640 under umask 077 too" "$(mode "$r$INC/astlinux-phoneprov-pjsip.conf")" 640

# ---- values written literally; SQL with bound parameters ----------------------
r=$(mkroot lit)
use_templates "$r" lit
list=$T_WORK/lit.conf
cat >"$list" <<'L'
lit 00:00:00:00:00:01 401/O'Brien_&_Sons|x\y&@EXT@ p&w|d\"q'@EXT@@PASSWORD@\1 a@b!~%=$*#+.-_
lit 00:00:00:00:00:02 402/"Q"_@MAC@<42> &;@MAC@\1|
L
ptc_run "$r" -q "$list"; check "lit: status" test $? -eq 0
expect_file "lit: phone 1 as typed" "$r/mnt/kd/phoneprov/lit/000000000001.cfg" \
'pass=p&w|d\"q'"'"'@EXT@@PASSWORD@\1
name=O'"'"'Brien & Sons|x\y&@EXT@
acct=a@b!~%=$*#+.-_
'
expect_file "lit: phone 2 as typed" "$r/mnt/kd/phoneprov/lit/000000000002.cfg" \
'pass=&
name="Q" @MAC@
acct=402
'
expect_file "lit: dialplan file" "$r$INC/astlinux-phoneprov-exten.conf" "$(dp_hdr astlinux-phoneprov-exten.conf)

exten => 401,1,Dial(SIP/a@b!~%=\$*#+.-_) ; O'Brien & Sons|x\\y&@EXT@
exten => 402,1,Dial(SIP/402) ; \"Q\" @MAC@
"
expect_file "lit: sip file" "$r$INC/astlinux-phoneprov-sip.conf" "$SIP_HDR"'[a@b!~%=$*#+.-_]
secret=p&w|d\"q'"'"'@EXT@@PASSWORD@\1
callerid="O'"'"'Brien & Sons|x\y&@EXT@" <401>

[402]
secret=&
callerid=""Q" @MAC@" <42>

'
expect_eq "lit: table with quotes" "$(sqlite3 -separator '|' "$r/mnt/kd/asterisk-odbc.sqlite3" 'SELECT id, cid_name, cid_num, account FROM phoneprov ORDER BY id')" \
"1|O'Brien & Sons|x\\y&@EXT@|401|a@b!~%=\$*#+.-_
2|\"Q\" @MAC@|42|402"
expect_eq "lit: a CID name with ' is found by a bound lookup" \
  "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" "SELECT ext FROM phoneprov WHERE cid_name LIKE 'O''Brien%'")" 401

# ---- --root: files written under the root, paths inside them real --------------
r=$(mkroot realpath)
use_templates "$r" desk
list=$T_WORK/realpath.conf
echo 'desk 00:0b:82:11:22:33 201 pw1' >"$list"
ptc_run "$r" -q "$list"
check "root: include header names the real path" grep -qx "; #include $INC/astlinux-phoneprov-sip.conf" "$r$INC/astlinux-phoneprov-sip.conf"
check "root: the root never appears in a file" bash -c "! grep -rqF '$r' '$r/mnt/kd/asterisk' '$r/mnt/kd/phoneprov/acme'"
check "root: nothing written outside the root" test ! -e "$INC/astlinux-phoneprov-sip.conf" -o "$r" = /

finish
