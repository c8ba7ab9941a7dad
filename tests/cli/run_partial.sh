#!/usr/bin/env bash
# ptc run, issue 3: -f guards only files that existed before the run;
# -p/--partial appends to the include files and adds rows to the table.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

r=$(mkroot partial)
for t in alpha beta; do
  cat >"$r/mnt/kd/phoneprov/templates/$t.conf" <<T
[general]
vendor=$t
prov_file=$t-@MAC@.cfg
dialplan_file=shared-exten.conf
dialplan_context=shared
sip_file=shared-sip.conf

[dialplan]
exten => @EXT@,1,Dial(SIP/@ACCOUNT@) ; $t

[sip]
\[@ACCOUNT@]
secret=@PASSWORD@

[phoneprov]
$t @EXT@
T
done
db=$r/mnt/kd/asterisk-odbc.sqlite3
dp=$r$INC/shared-exten.conf sip=$r$INC/shared-sip.conf
hdr_dp=';
; ###################################################
; ### AstLinux auto-provisioned IP-Phone dialplan ###
; ###################################################
;
; Include in your extensions.conf file by using:
; #include /mnt/kd/asterisk/includes/shared-exten.conf

[shared]
'
hdr_sip=';
; #############################################################
; ### AstLinux auto-provisioned IP-Phone SIP configurations ###
; #############################################################
;
; Include in your sip.conf file by using:
; #include /mnt/kd/asterisk/includes/shared-sip.conf


'

# ---- a fresh tree: two templates share the include files, no -f needed ---------------
list=$T_WORK/full.conf
printf 'alpha 00:11:22:33:44:01 601 a1\nbeta 00:11:22:33:44:02 602 b2\n' >"$list"
rcap "$r" "$list"
expect_eq "fresh tree, shared includes: status" "$RC" 0
expect_eq "fresh tree: stderr" "$ERR" ""
expect_file "fresh tree: dialplan" "$dp" "$hdr_dp"'exten => 601,1,Dial(SIP/601) ; alpha
exten => 602,1,Dial(SIP/602) ; beta
'
# ---- the same list again: every output existed before, -f needed ----------------------
rcap "$r" "$list"
expect_eq "second run: status 2" "$RC" 2
expect_eq "second run: lists the four files" "$(grep -c ' exists \[exists\]$' "$T_WORK/.err")" 4

# ---- -p: new phones appended, rows added, ids continue ---------------------------------
part=$T_WORK/part.conf
printf 'beta 00:11:22:33:44:03 603 b3\nalpha 00:11:22:33:44:04 604 a4\n' >"$part"
rcap "$r" -p "$part"
expect_eq "-p: status (include files need no -f)" "$RC" 0
expect_eq "-p: summary" "$(tail -1 "$T_WORK/.out")" "ptc: 2 phones: 2 files created, 2 changed, 0 unchanged; 2 table rows"
expect_file "-p: dialplan appended, header once" "$dp" "$hdr_dp"'exten => 601,1,Dial(SIP/601) ; alpha
exten => 602,1,Dial(SIP/602) ; beta
exten => 603,1,Dial(SIP/603) ; beta
exten => 604,1,Dial(SIP/604) ; alpha
'
expect_file "-p: sip appended" "$sip" "$hdr_sip"'[601]
secret=a1

[602]
secret=b2

[603]
secret=b3

[604]
secret=a4

'
expect_eq "-p: rows added, ids continue" "$(table "$r")" "$TABLE_HDR
1	601	601	601	601	1	00:11:22:33:44:01	alpha	alpha	alpha	sip
2	602	602	602	602	1	00:11:22:33:44:02	beta	beta	beta	sip
3	603	603	603	603	1	00:11:22:33:44:03	beta	beta	beta	sip
4	604	604	604	604	1	00:11:22:33:44:04	alpha	alpha	alpha	sip"
expect_file "-p: new provisioning file" "$r/mnt/kd/phoneprov/beta/beta-001122334403.cfg" $'beta 603\n'
expect_eq "-p: no leftovers" "$(leftovers "$r")" ""

# ---- -p still guards provisioning files that exist ---------------------------------------
printf 'alpha 00:11:22:33:44:01 601 NEW\nalpha 00:11:22:33:44:05 605 a5\n' >"$part"
before=$(snapshot "$r")
rcap "$r" -p "$part"
expect_eq "-p, provisioning file exists: status 2" "$RC" 2
expect_eq "-p, provisioning file exists: only that file named" "$ERR" "ptc: error: file \"$r/mnt/kd/phoneprov/alpha/alpha-001122334401.cfg\" exists [exists]
ptc: use -f or --force-overwrite to overwrite them.
Files left unchanged.
"
expect_eq "-p, status 2: nothing written" "$(snapshot "$r")" "$before"
rcap "$r" -p -f "$part"
expect_eq "-p -f: status" "$RC" 0
expect_eq "-p -f: rows 5 and 6" "$(sqlite3 "$db" 'SELECT id || ":" || ext FROM phoneprov WHERE id > 4 ORDER BY id')" "5:601
6:605"
expect_file "-p -f: provisioning file replaced" "$r/mnt/kd/phoneprov/alpha/alpha-001122334401.cfg" $'alpha 601\n'
check "-p -f: password in sip file" grep -qx 'secret=NEW' "$sip"

# ---- -p on a fresh tree writes the headers ----------------------------------------------
r2=$(mkroot partial-fresh)
cp "$r"/mnt/kd/phoneprov/templates/*.conf "$r2/mnt/kd/phoneprov/templates/"
printf 'alpha 00:11:22:33:44:01 601 a1\n' >"$part"
ptc_run "$r2" -q -p "$part"; check "-p fresh: status" test $? -eq 0
expect_file "-p fresh: header and phone" "$r2$INC/shared-exten.conf" "$hdr_dp"'exten => 601,1,Dial(SIP/601) ; alpha
'
# ---- without -p, a run replaces the table and the include files -------------------------
ptc_run "$r" -q -f "$list"; check "full run after -p: status" test $? -eq 0
expect_eq "full run after -p: table replaced" "$(sqlite3 "$db" 'SELECT group_concat(id || ":" || ext) FROM phoneprov')" "1:601,2:602"
expect_file "full run after -p: dialplan regenerated" "$dp" "$hdr_dp"'exten => 601,1,Dial(SIP/601) ; alpha
exten => 602,1,Dial(SIP/602) ; beta
'

finish
