#!/usr/bin/env bash
# ptc notify.  Asterisk is not packaged for Debian 12, so two stand-ins play
# it, each speaking the real thing's documented interface:
#   - an `asterisk` script on PATH (tests/fixtures/asterisk-standin) that records its arguments and answers
#     `-rx "pjsip send notify OPT endpoint EP"` / `-rx "sip notify OPT PEER"`
#     as the real CLI does ("Sending NOTIFY of type 'OPT' to 'EP'", then
#     "Unable to retrieve endpoint EP" for an unknown one);
#   - tests/cli/ami_standin.py, a Manager peer on 127.0.0.1 (banner, Login,
#     Response Success/Error with the ActionID echoed, Events in between,
#     PJSIPNotify, SIPnotify, Logoff).
. "$(dirname "$0")/../lib.sh"

BIN=$T_WORK/bin
mkdir -p "$BIN"
cp "$TESTS_DIR/fixtures/asterisk-standin" "$BIN/asterisk"
export PATH=$BIN:$PATH NOTIFY_LOG=$T_WORK/cli.log

r=$(mkroot notify)
DB=$r/mnt/kd/asterisk-odbc.sqlite3
# One phone per vendor row of the original's map, chan_sip and chan_pjsip.
sqlite3 "$DB" "
CREATE TABLE phoneprov (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ext TEXT DEFAULT '', cid_name TEXT DEFAULT '',
  cid_num TEXT DEFAULT '', account TEXT DEFAULT '', line INTEGER DEFAULT 1, mac_addr TEXT DEFAULT '',
  template TEXT DEFAULT '', model TEXT DEFAULT '', vendor TEXT DEFAULT '', sip_driver TEXT DEFAULT '');
INSERT INTO phoneprov (ext, account, line, mac_addr, template, model, vendor, sip_driver) VALUES
  ('201', 'acct201', 1, '00:08:5d:00:00:01', 'aastra', '6757i', 'aastra', 'sip'),
  ('202', 'acct202', 1, '00:56:2b:00:00:02', 'cisco', 'CP-7841', 'cisco', 'sip'),
  ('203', 'acct203', 1, '00:0e:08:00:00:03', 'linksys', 'SPA942', 'linksys', 'sip'),
  ('204', 'acct204', 1, '00:04:f2:00:00:04', 'poly', 'VVX411', 'polycom', 'pjsip'),
  ('205', 'acct205', 1, '00:0e:08:00:00:05', 'sipura', 'SPA3000', 'sipura', 'sip'),
  ('206', 'acct206', 1, '00:04:13:00:00:06', 'snom', 'snomD785', 'snom', 'pjsip'),
  ('207', 'acct207', 1, '00:15:65:00:00:07', 'yealink', 'T46S', 'yealink', 'pjsip'),
  ('217', 'acct217', 2, '00:15:65:00:00:07', 'yealink', 'T46S', 'yealink', 'pjsip'),
  ('208', 'acct208', 1, '00:0b:82:00:00:08', 'gs', 'GXP2170', 'grandstream', 'sip'),
  ('209', 'acct209', 1, '08:00:0f:00:00:09', 'mitel', '6867i', 'mitel', 'sip'),
  ('210', 'missing210', 1, '00:15:65:00:00:10', 'yealink', 'T46S', 'yealink', 'pjsip'),
  ('211', 'acct211', 1, '00:a8:59:00:00:11', 'acme', 'x1', 'acme', 'sip');"

notify() { "$PTC" notify --root "$r" "$@"; }
sent() { : >"$NOTIFY_LOG"; notify "$@" >"$T_WORK/out" 2>"$T_WORK/err"; RC=$?; }

# ---- the original's map, reload and reboot ---------------------------------
sent 201 202 203 204 205 206 207 208 209
expect_eq "map: exit status" "$RC" 0
expect_file "map: reload commands" "$NOTIFY_LOG" "sip notify aastra-check-cfg acct201
sip notify cisco-check-cfg acct202
sip notify linksys-warm-restart acct203
pjsip send notify polycom-check-cfg endpoint acct204
sip notify sipura-check-cfg acct205
pjsip send notify snom-check-cfg endpoint acct206
pjsip send notify snom-check-cfg endpoint acct207
sip notify snom-check-cfg acct208
sip notify snom-check-cfg acct209
"
check "map: a result line per phone" grep -qx '00:15:65:00:00:07 acct207 reload: sent asterisk -rx "pjsip send notify snom-check-cfg endpoint acct207"' "$T_WORK/out"
sent --reboot 202 203 206 207 208 209
expect_eq "map: reboot exit status" "$RC" 0
expect_file "map: reboot commands" "$NOTIFY_LOG" "sip notify linksys-cold-restart acct202
sip notify linksys-cold-restart acct203
pjsip send notify snom-reboot endpoint acct206
pjsip send notify snom-reboot endpoint acct207
sip notify snom-reboot acct208
sip notify snom-reboot acct209
"
sent --reboot 201 204 205
expect_eq "map: no reboot for aastra, polycom, sipura: status" "$RC" 1
check "map: says what to do" grep -q '00:08:5d:00:00:01 (aastra): no way to notify this vendor: set notify_reload=/notify_reboot= in its template' "$T_WORK/err"
expect_file "map: nothing sent for them" "$NOTIFY_LOG" ""
sent 211
expect_eq "unknown vendor: status" "$RC" 1

# ---- MODEL-reload, then VENDOR-reload, from the notify config --------------------
mkdir -p "$r/etc/asterisk"
printf '[T46S-reload]\nEvent=>check-sync\n\n[yealink-reload](template)\nEvent=>check-sync\n[snom-reboot]\n' >"$r/etc/asterisk/pjsip_notify.conf"
printf '[grandstream-reload]\nEvent=>check-sync\n' >"$r/etc/asterisk/sip_notify.conf"
sent 207 208 206
expect_file "config: model first, then vendor, then the map (in table order)" "$NOTIFY_LOG" "pjsip send notify snom-check-cfg endpoint acct206
pjsip send notify T46S-reload endpoint acct207
sip notify grandstream-reload acct208
"
printf '[yealink-reload]\n' >"$r/etc/asterisk/pjsip_notify.conf"
sent 207
expect_file "config: the vendor's section" "$NOTIFY_LOG" "pjsip send notify yealink-reload endpoint acct207
"
rm -rf "$r/etc/asterisk"

# ---- the template's notify_reload= / notify_reboot= ------------------------------
printf '[general]\nvendor=acme\nnotify_reload=acme-resync\nnotify_reboot=acme-boot\n' >"$r/mnt/kd/phoneprov/templates/acme.conf"
sent 211
expect_file "template: notify_reload=" "$NOTIFY_LOG" "sip notify acme-resync acct211
"
sent --reboot 00A859000011
expect_file "template: notify_reboot=, MAC in another spelling" "$NOTIFY_LOG" "sip notify acme-boot acct211
"
"$PTC" lint "$r/mnt/kd/phoneprov/templates/acme.conf" >/dev/null 2>&1; expect_eq "lint knows the keys" "$?" 0

# ---- targets, errors, output ---------------------------------------------------
sent 217
expect_file "a later line's extension names the phone (line 1's account)" "$NOTIFY_LOG" "pjsip send notify snom-check-cfg endpoint acct207
"
sent --template yealink
expect_eq "--template: both yealink phones (one missing): status" "$RC" 1
check "Asterisk's error is the result" grep -qx '00:15:65:00:00:10 missing210 reload: error: Unable to retrieve endpoint missing210' "$T_WORK/out"
sent 999 00:00:00:00:00:99
expect_eq "unknown targets: status" "$RC" 1
check "unknown extension named" grep -q 'no phone with extension 999' "$T_WORK/err"
check "unknown MAC named" grep -q 'no phone with MAC 00:00:00:00:00:99' "$T_WORK/err"
sent --dry-run --all
expect_file "--dry-run sends nothing" "$NOTIFY_LOG" ""
check "--dry-run says what it would send" grep -q 'acct202 reload: would send asterisk -rx "sip notify cisco-check-cfg acct202"' "$T_WORK/out"
sent --format json 202
expect_eq "json" "$(cat "$T_WORK/out")" '{"mac":"00:56:2b:00:00:02","account":"acct202","action":"reload","via":"cli","driver":"sip","request":"asterisk -rx \"sip notify cisco-check-cfg acct202\"","sent":true}'
notify --bogus >/dev/null 2>&1; expect_eq "bad option" "$?" 64
notify >/dev/null 2>&1; expect_eq "no target" "$?" 64
notify --rate 0 202 >/dev/null 2>&1; expect_eq "bad rate" "$?" 64

# The rate limit: 4 phones at 10 a second are spread over at least 0.3 s.
cat >"$BIN/asterisk" <<'EOF'
#!/bin/sh
date +%s%N >>"$NOTIFY_LOG.times"
echo "Sending NOTIFY of type 'x' to 'y'"
EOF
rm -f "$NOTIFY_LOG.times"
notify --rate 10 202 203 206 207 >/dev/null
first=$(head -1 "$NOTIFY_LOG.times"); last=$(tail -1 "$NOTIFY_LOG.times")
check "--rate spaces the notifies" test $(( (last - first) / 1000000 )) -ge 280
PATH=/nonexistent:/usr/bin:/bin "$PTC" notify --root "$r" --asterisk /nonexistent/asterisk 202 >"$T_WORK/out" 2>&1
expect_eq "no asterisk binary: status" "$?" 1
check "no asterisk binary: said" grep -q 'error: could not run /nonexistent/asterisk' "$T_WORK/out"

# ---- --changed, against a real audit database ------------------------------------
base=$r/mnt/kd/phoneprov
mkdir -p "$base/cisco" "$base/linksys"
echo old >"$base/cisco/00562b000002.xml"; echo old >"$base/linksys/000e08000003.xml"
# audit_schema ROOT: a ptc serve run just long enough to make the audit's
# tables (slowly under valgrind: waits for them rather than a fixed time).
audit_schema() {
  "$PTC" serve --root "$1" --listen 127.0.0.1:0 --allow 127.0.0.1 --access-log off 2>/dev/null & spid=$!
  for _ in $(seq 1 200); do
    sqlite3 "$1/mnt/kd/phoneprov-audit.sqlite3" 'SELECT 1 FROM phoneprov_fetch LIMIT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  kill -TERM $spid; wait $spid 2>/dev/null
}
audit_schema "$r"
mt() { echo $(( $(stat -c %Y "$1") * 1000000000 + 10#$(stat -c %y "$1" | sed 's/.*\.\([0-9]*\) .*/\1/') )); }
sqlite3 "$r/mnt/kd/phoneprov-audit.sqlite3" "INSERT INTO phoneprov_fetch VALUES
  ('00562b000002', 'cisco/00562b000002.xml', 1, '127.0.0.1', 'GET', 200, 4, 'Cisco', '11.3', $(mt "$base/cisco/00562b000002.xml")),
  ('000e08000003', 'linksys/000e08000003.xml', 1, '127.0.0.1', 'GET', 200, 4, 'Linksys', '7.5', $(mt "$base/linksys/000e08000003.xml"));"
sleep 0.05; echo new >"$base/cisco/00562b000002.xml"                 # regenerated since
cat >"$BIN/asterisk" <<'EOF'
#!/bin/sh
printf '%s\n' "$2" >>"$NOTIFY_LOG"
set -- $2
echo "Sending NOTIFY of type '$3' to '$4'"
EOF
sent --changed
expect_eq "--changed: status" "$RC" 0
expect_file "--changed: only the phone behind its file" "$NOTIFY_LOG" "sip notify cisco-check-cfg acct202
"

# ---- ptc run --notify: the phones whose files this run changed -----------------
r2=$(mkroot runnotify)
cp "$REPO_DIR/templates/yealink-t4x.conf" "$REPO_DIR/templates/cisco-mpp.conf" "$r2/mnt/kd/phoneprov/templates/"
list=$T_WORK/run.conf
printf 'yealink-t4x 80:5e:c0:1a:2b:01 201/Desk pw1\ncisco-mpp 00:56:2b:ab:cd:70 270/Dave pw2\n' >"$list"
ptc_run "$r2" -q "$list"
audit_schema "$r2"
b2=$r2/mnt/kd/phoneprov
sqlite3 "$r2/mnt/kd/phoneprov-audit.sqlite3" "INSERT INTO phoneprov_fetch VALUES
  ('805ec01a2b01', 'yealink/805ec01a2b01.cfg', 1, '127.0.0.1', 'GET', 200, 4, 'Yealink', '66', $(mt "$b2/yealink/805ec01a2b01.cfg")),
  ('00562babcd70', 'cisco/00562babcd70.xml', 1, '127.0.0.1', 'GET', 200, 4, 'Cisco', '11', $(mt "$b2/cisco/00562babcd70.xml"));"
sleep 0.05
printf 'yealink-t4x 80:5e:c0:1a:2b:01 201/Front_Desk pw1\ncisco-mpp 00:56:2b:ab:cd:70 270/Dave pw2\n' >"$list"
: >"$NOTIFY_LOG"
ptc_run "$r2" -q -f --notify "$list" >"$T_WORK/out" 2>&1
expect_eq "run --notify: status" "$?" 0
expect_file "run --notify: only the phone whose file changed" "$NOTIFY_LOG" "sip notify snom-check-cfg 201_2b01
"

# ---- AMI -------------------------------------------------------------------------
command -v python3 >/dev/null || { echo "notify: python3 missing: the AMI stand-in cases are skipped"; finish; exit; }
printf 'user=ptc\nsecret=S3cretAMI\n' >"$T_WORK/ami.secret"; chmod 600 "$T_WORK/ami.secret"
ami() {       # EXTRA-STANDIN-ARGS -- NOTIFY-ARGS: runs the stand-in and ptc notify --via ami
  local extra=()
  while [ "$1" != -- ]; do extra+=("$1"); shift; done; shift
  rm -f "$T_WORK/port" "$T_WORK/ami.log"
  python3 "$TESTS_DIR/cli/ami_standin.py" "$T_WORK/port" "$T_WORK/ami.log" ptc S3cretAMI "${extra[@]}" & apid=$!
  for _ in $(seq 1 50); do [ -s "$T_WORK/port" ] && break; sleep 0.1; done
  notify --via ami --ami "127.0.0.1:$(cat "$T_WORK/port")" --ami-secret-file "$T_WORK/ami.secret" "$@" \
    >"$T_WORK/out" 2>"$T_WORK/err"
  RC=$?
  wait $apid
}
ami -- 207 208 204 202
expect_eq "ami: status" "$RC" 0
expect_file "ami: login, one action per phone (table order), logoff" "$T_WORK/ami.log" "Action: Login | Username: ptc | Secret: *** | Events: off | ActionID: ptc-1
Action: SIPnotify | Channel: SIP/acct202 | Variable: Event=resync | ActionID: ptc-2
Action: PJSIPNotify | Endpoint: acct204 | Variable: Event=check-sync | ActionID: ptc-3
Action: PJSIPNotify | Endpoint: acct207 | Variable: Event=check-sync;reboot=false | ActionID: ptc-4
Action: SIPnotify | Channel: SIP/acct208 | Variable: Event=check-sync | ActionID: ptc-5
Action: Logoff | ActionID: ptc-6
"
check "ami: result line" grep -qx '00:15:65:00:00:07 acct207 reload: sent Action: PJSIPNotify, Endpoint: acct207, Variable: Event=check-sync;reboot=false' "$T_WORK/out"
ami -- --reboot 207 208 202 211
check "ami: reboot events" grep -q 'Endpoint: acct207 | Variable: Event=check-sync;reboot=true' "$T_WORK/ami.log"
check "ami: grandstream reboot" grep -q 'Channel: SIP/acct208 | Variable: Event=check-sync;reboot=true' "$T_WORK/ami.log"
check "ami: cisco reboot" grep -q 'Channel: SIP/acct202 | Variable: Event=reboot' "$T_WORK/ami.log"
check "ami: a template's option" grep -q 'Channel: SIP/acct211 | Option: acme-boot' "$T_WORK/ami.log"
ami -- 210
expect_eq "ami: Asterisk's error: status" "$RC" 1
check "ami: the error message" grep -qx '00:15:65:00:00:10 missing210 reload: error: Unable to find endpoint' "$T_WORK/out"
printf 'user=ptc\nsecret=wrong\n' >"$T_WORK/ami.secret"
ami -- 207
expect_eq "ami: login failure: status" "$RC" 1
check "ami: login failure said" grep -q 'Manager login at 127.0.0.1:[0-9]* failed: Authentication failed' "$T_WORK/err"
if grep -q 'wrong\|S3cret' "$T_WORK/out" "$T_WORK/err"; then fail "ami: the secret was printed"; else ok; fi
printf 'user=ptc\nsecret=S3cretAMI\n' >"$T_WORK/ami.secret"
ami --drop-after 2 -- 207 208 206
expect_eq "ami: dropped connection: status" "$RC" 1
check "ami: the phone before the drop was sent" grep -q 'acct206 reload: sent' "$T_WORK/out"
check "ami: the phones after it fail" grep -q 'acct207 reload: error: connection to the Manager lost' "$T_WORK/out"
check "ami: ...every one" grep -q 'acct208 reload: error: connection to the Manager lost' "$T_WORK/out"
chmod 644 "$T_WORK/ami.secret"
notify --via ami --ami 127.0.0.1:1 --ami-secret-file "$T_WORK/ami.secret" 207 >/dev/null 2>"$T_WORK/err"
expect_eq "ami: a secret file others may read: status" "$?" 1
check "ami: refused" grep -q 'is readable by others: chmod 0600 it' "$T_WORK/err"

finish
