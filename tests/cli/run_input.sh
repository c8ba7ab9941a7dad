#!/usr/bin/env bash
# ptc run, issue 3: the phone list (comments, blanks, CRLF, CID names, `;`
# lists) and the defaults of every merge variable.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# ---- defaults, indexed values, `_`, <nnn>, `;` lists, MAC forms --------------
r=$(mkroot defaults)
use_templates "$r" defaults acct
list=$T_WORK/defaults.conf
cat >"$list" <<'L'
# phones
defaults 00-0A-0b-0C-0d-0E 201/Front_Desk<99>;202;;204/Bob pw1;;pw3 ;acct2
acct 0a0b0c0d0e0f 301;302/X pw
L
rcap "$r" "$list"
expect_eq "defaults: status" "$RC" 0
expect_eq "defaults: stderr" "$ERR" ""
expect_eq "defaults: stdout" "$OUT" "Generating Phone Provisioning files:
..Done
ptc: 2 phones: 2 files created, 0 changed, 0 unchanged; 5 table rows
"
# model=template, vendor=model, prov_path=BASE/vendor, prov_file=@MAC@.cfg,
# MAC as typed without macaddress_case, MAC_ADDR normalised to colons;
# line n defaults to line 1's extension and password, its CID to its extension.
expect_file "defaults: every default" "$r/mnt/kd/phoneprov/defaults/000A0b0C0d0E.cfg" \
'template=defaults model=defaults vendor=defaults
mac=000A0b0C0d0E mac4=0d0E mac6=0C0d0E typed=00:0A:0b:0C:0d:0E
ext=201 name=Front Desk num=99 pass=pw1 acct=201 user=201
1 201|Front Desk|99|pw1|201|201
2 202|202|202|pw1|acct2|acct2
3 201|201|201|pw3|201|201
4 204|Bob|204|pw1|204|204
5 201|201|201|pw1|201|201
6 201|201|201|pw1|201|201
'
# model from [general] (with @TEMPLATE@), vendor defaults to it;
# macaddress_case=upper; auto_account_prefix/suffix/case.
expect_file "defaults: accounts and MAC case" "$r/mnt/kd/phoneprov/m-acct/0D0E0F-301.txt" \
'vendor=m-acct mac=0A0B0C0D0E0F 0E0F 0D0E0F 0a:0b:0c:0d:0e:0f
acme-301-0e0f acme-302-0e0f acme-301-0e0f
'
expect_eq "defaults: table (one row per distinct line)" "$(table "$r")" "$TABLE_HDR
1	201	Front Desk	99	201	1	00:0A:0b:0C:0d:0E	defaults	defaults	defaults	sip
2	202	202	202	acct2	2	00:0A:0b:0C:0d:0E	defaults	defaults	defaults	sip
3	204	Bob	204	204	4	00:0A:0b:0C:0d:0E	defaults	defaults	defaults	sip
4	301	301	301	acme-301-0e0f	1	0a:0b:0c:0d:0e:0f	acct	m-acct	m-acct	sip
5	302	X	302	acme-302-0e0f	2	0a:0b:0c:0d:0e:0f	acct	m-acct	m-acct	sip"

# ---- comments, tabs, trailing blanks, CRLF --------------------------------------
# The same two phones written plainly and written messily give the same bytes.
plain=$T_WORK/plain.conf messy=$T_WORK/messy.conf
printf 'desk 00:0b:82:11:22:33 201/Front_Desk pw1\ndesk 00:0b:82:11:22:44 202 pw2 acct202\n' >"$plain"
printf '## Format:\r\n# desk 00:0b:82:11:22:55 203 commented\r\n   # indented comment\r\n\r\n \t \r\n\tdesk\t00:0b:82:11:22:33   201/Front_Desk\tpw1 \t \r\ndesk 00:0b:82:11:22:44 202 pw2 acct202\t\r\n#last' >"$messy"
ra=$(mkroot plain) rb=$(mkroot messy)
use_templates "$ra" desk; use_templates "$rb" desk
ptc_run "$ra" -q "$plain"; check "plain list runs" test $? -eq 0
ptc_run "$rb" -q "$messy"; check "messy list runs" test $? -eq 0
expect_file "plain: provisioning file" "$ra/mnt/kd/phoneprov/acme/000b82112233.cfg" \
'server=10.0.0.1
user=201_2233 pass=pw1 name=Front Desk
'
expect_file "plain: sip file" "$ra$INC/astlinux-phoneprov-sip.conf" "$SIP_HDR"'[201_2233]
secret=pw1
callerid="Front Desk" <201>

[acct202]
secret=pw2
callerid="202" <202>

'
for f in phoneprov/acme/000b82112233.cfg phoneprov/acme/000b82112244.cfg \
         asterisk/includes/astlinux-phoneprov-sip.conf asterisk/includes/astlinux-phoneprov-exten.conf; do
  check "messy list: $f as plain" cmp -s "$ra/mnt/kd/$f" "$rb/mnt/kd/$f"
done
check "messy list: no file for the commented phone" test ! -e "$rb/mnt/kd/phoneprov/acme/000b82112255.cfg"
expect_eq "messy list: same table" "$(table "$rb")" "$(table "$ra")"
expect_eq "messy list: two rows" "$(sqlite3 "$rb/mnt/kd/asterisk-odbc.sqlite3" 'SELECT count(*) FROM phoneprov')" 2

# ---- CallerID: `_` is a space (one trailing one dropped, as the original), <nnn> the number
r=$(mkroot cid)
use_templates "$r" desk
list=$T_WORK/cid.conf
printf 'desk 00:00:5e:00:01:01 801/Alice_DECT<101> pw801\ndesk 00:00:5e:00:01:02 802/<102> pw802\ndesk 00:00:5e:00:01:03 803/A__B_ pw803\n' >"$list"
ptc_run "$r" -q "$list"
expect_eq "cid: table" "$(sqlite3 -separator '|' "$r/mnt/kd/asterisk-odbc.sqlite3" 'SELECT ext, cid_name, cid_num FROM phoneprov ORDER BY id')" \
"801|Alice DECT|101
802|802|102
803|A  B|803"
expect_file "cid: name and number in the sip file" "$r$INC/astlinux-phoneprov-sip.conf" "$SIP_HDR"'[801_0101]
secret=pw801
callerid="Alice DECT" <101>

[802_0102]
secret=pw802
callerid="802" <102>

[803_0103]
secret=pw803
callerid="A  B" <803>

'
finish
