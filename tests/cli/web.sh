#!/usr/bin/env bash
# ptc web and ptc passwd: a real server on 127.0.0.1 hit by curl.  Accounts
# and sessions (wrong password, no cookie, CSRF, a viewer refused a change,
# throttling, logout), the phone list edited in place (comments kept byte
# for byte, 428/412, every field error, disable/enable), import and export,
# templates, settings, Generate (409 while one runs, a dry run's masked
# diff, the tree identical to ptc run's), status and notify (with the
# `asterisk` stand-in of tests/cli/notify.sh: Asterisk is not packaged for
# Debian 12), HTTPS with the self-signed certificate, and that no password
# or session token reaches a log.
. "$(dirname "$0")/../lib.sh"

command -v curl >/dev/null || { echo "web: curl missing (make deps installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "web: python3 missing"; exit 1; }

# jv FILE EXPR: a Python expression over the JSON document j in FILE.
jv() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(json.dumps(r) if isinstance(r,(dict,list,bool)) or r is None else r)' "$1" "$2"; }

# ---- usage and accounts ----
"$PTC" web --help >/dev/null; expect_eq "web --help exits 0" "$?" 0
"$PTC" web --bogus >/dev/null 2>&1; expect_eq "web bad option" "$?" 64
"$PTC" web --cert /x >/dev/null 2>&1; expect_eq "web --cert without --key" "$?" 64
"$PTC" web --session-idle 0 >/dev/null 2>&1; expect_eq "web --session-idle 0" "$?" 64
"$PTC" passwd --help >/dev/null; expect_eq "passwd --help exits 0" "$?" 0
"$PTC" passwd --role boss x </dev/null >/dev/null 2>&1; expect_eq "passwd bad role" "$?" 64
"$PTC" passwd 'bad name' </dev/null >/dev/null 2>&1; expect_eq "passwd bad user name" "$?" 64

R=$(mkroot web)
cp "$REPO_DIR"/templates/*.conf "$R/mnt/kd/phoneprov/templates/"
LIST=$R/mnt/kd/massdeployment.conf
cp "$REPO_DIR/examples/massdeployment.conf" "$LIST"
chmod 0640 "$LIST"
USERS=$R/mnt/kd/ptc/web-users
echo short | "$PTC" passwd --root "$R" admin 2>"$T_WORK/err"; expect_eq "passwd: a short password refused" "$?" 1
check "passwd: says why" grep -q 'at least 8 characters' "$T_WORK/err"
echo 'Adm1n-secret' | "$PTC" passwd --root "$R" admin; expect_eq "passwd adds an admin" "$?" 0
echo 'V1ewer-secret' | "$PTC" passwd --root "$R" --role viewer view; expect_eq "passwd adds a viewer" "$?" 0
echo 'Other-secret' | "$PTC" passwd --root "$R" gone && "$PTC" passwd --root "$R" --delete gone
expect_eq "passwd --delete" "$(cut -d: -f1 "$USERS" | tr '\n' ' ')" "admin view "
expect_eq "users file is 0600" "$(stat -c %a "$USERS")" 600
check "passwords are yescrypt hashes" grep -q '^admin:admin:\$y\$' "$USERS"
check "no password in the users file" bash -c "! grep -q -e Adm1n-secret -e V1ewer-secret '$USERS'"
"$PTC" passwd --root "$R" --delete nobody 2>/dev/null; expect_eq "passwd --delete unknown" "$?" 1

"$PTC" web --root "$R" --listen 0.0.0.0:0 2>"$T_WORK/err"; expect_eq "plain HTTP off loopback refused" "$?" 1
check "and says why" grep -q 'plain HTTP only on loopback' "$T_WORK/err"

# ---- the server ----
ERR=$T_WORK/web.err
PATH_BIN=$T_WORK/bin
mkdir -p "$PATH_BIN"
cp "$TESTS_DIR/fixtures/asterisk-standin" "$PATH_BIN/asterisk"
export NOTIFY_LOG=$T_WORK/notify.log

# start_web ARGS...: starts ptc web; sets PID and PORT.
start_web() {
  : >"$ERR"
  PATH=$PATH_BIN:$PATH "$PTC" web --root "$R" --cache-dir "$T_WORK/cache" "$@" 2>"$ERR" &
  PID=$!
  PORT=$(port_of "$ERR" $PID)
  [ -n "$PORT" ] || { fail "ptc web did not start"; cat "$ERR" >&2; }
}
stop_web() { kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; local rc=$?; cat "$ERR" >>"$T_WORK/web-all.err"; return $rc; }

start_web --listen 127.0.0.1:0
B=http://127.0.0.1:$PORT
BODY=$T_WORK/body
HDRS=$T_WORK/headers
JAR=$T_WORK/jar
CSRF=

# api METHOD PATH [curl args...]: the status code; the body in $BODY.
api() {
  local m=$1 p=$2; shift 2
  curl -s -m 60 -o "$BODY" -D "$HDRS" -w '%{http_code}' -b "$JAR" -c "$JAR" -X "$m" \
    ${CSRF:+-H "X-CSRF-Token: $CSRF"} "$@" "$B$p"
}
login() {
  rm -f "$JAR"
  CSRF=
  api POST /api/login -H 'Content-Type: application/json' -d "{\"user\":\"$1\",\"password\":\"$2\"}"
}
etag() { api GET /api/phones >/dev/null; jv "$BODY" 'j["etag"]'; }

expect_eq "no session: 401" "$(api GET /api/phones)" 401
expect_eq "wrong password: 401" "$(login admin wrong-password)" 401
expect_eq "unknown user: 401" "$(login nobody wrong-password)" 401
expect_eq "login" "$(login admin Adm1n-secret)" 200
CSRF=$(jv "$BODY" 'j["csrf"]')
ADMIN_CSRF=$CSRF
ADMIN_TOKEN=$(awk '$6 == "ptc_session" {print $7}' "$JAR")
check "the cookie is HttpOnly and SameSite=Strict" grep -qi 'set-cookie: ptc_session=[0-9a-f]\{64\}; .*HttpOnly.*SameSite=Strict' "$HDRS"
check "security headers" grep -qi 'x-content-type-options: nosniff' "$HDRS"
expect_eq "session" "$(api GET /api/session)" 200
expect_eq "session: user and role" "$(jv "$BODY" '[j["user"], j["role"]]')" '["admin", "admin"]'
expect_eq "a forged cookie: 401" "$(curl -s -o /dev/null -w '%{http_code}' -b "ptc_session=$(printf '%064d' 0)" "$B/api/phones")" 401

# ---- the pages: compiled in, with an ETag and gzip ----
expect_eq "GET / is the page" "$(curl -s -o "$BODY" -D "$HDRS" -w '%{http_code}' "$B/")" 200
check "index.html, its script a file" grep -q '<script src="/app.js" defer></script>' "$BODY"
check "no inline script allowed" bash -c "grep -i '^content-security-policy:' '$HDRS' | grep -q \"default-src 'self'\" && ! grep -qi unsafe-inline '$HDRS'"
PE=$(grep -i '^etag:' "$HDRS" | tr -d '\r' | cut -d' ' -f2)
expect_eq "304 with its ETag" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $PE" "$B/")" 304
curl -s -H 'Accept-Encoding: gzip, deflate' -D "$HDRS" -o "$T_WORK/app.gz" "$B/app.js"
check "gzip for a client that takes it" grep -qi '^content-encoding: gzip' "$HDRS"
check "the same bytes as web/app.js" cmp -s <(gzip -dc "$T_WORK/app.gz") "$REPO_DIR/web/app.js"
check "plain for one that does not" cmp -s <(curl -s "$B/app.js") "$REPO_DIR/web/app.js"
expect_eq "no such page" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$B/../etc/passwd")" 404

# a client that has not logged in is answered before its body is read
head -c 3000000 /dev/zero >"$T_WORK/big"
expect_eq "no session: refused before the upload" \
  "$(curl -s -o /dev/null -w '%{http_code} %{size_upload}' -H 'Expect: 100-continue' --data-binary @"$T_WORK/big" "$B/api/import")" "401 0"

# ---- the phone list ----
ORIG=$T_WORK/orig.conf
cp "$LIST" "$ORIG"
expect_eq "GET /api/phones" "$(api GET /api/phones)" 200
expect_eq "every phone of the list" "$(jv "$BODY" 'len(j["phones"])')" "$(grep -c '^[a-z]' "$ORIG")"
check "no password is sent" bash -c "! grep -q '\"password\"' '$BODY'"
E=$(jv "$BODY" 'j["etag"]')
expect_eq "ETag header" "$(grep -i '^etag:' "$HDRS" | tr -d '\r' | cut -d' ' -f2-)" "$E"

NEW='{"template":"yealink-t4x","mac":"80:5E:C0:AA:BB:01","lines":[{"ext":"299","cid_name":"New Desk"}]}'
SAVE=$CSRF; CSRF=
expect_eq "a change without the CSRF token: 403" "$(api POST /api/phones -H "If-Match: $E" -d "$NEW")" 403
CSRF=$SAVE
expect_eq "a change without If-Match: 428" "$(api POST /api/phones -d "$NEW")" 428
expect_eq "add a phone" "$(api POST /api/phones -H "If-Match: $E" -d "$NEW")" 201
head -c "$(stat -c %s "$ORIG")" "$LIST" >"$T_WORK/head"
check "add: every byte before stays" cmp -s "$T_WORK/head" "$ORIG"
ADDED=$(tail -n 1 "$LIST")
check "add: the new line, with a generated 16-character password" \
  grep -Eq '^yealink-t4x 80:5E:C0:AA:BB:01 299/New_Desk [A-Za-z0-9+/]{16}$' <<<"$ADDED"
expect_eq "add: the answer names its line" "$(jv "$BODY" 'j["phone"]["line_no"]')" "$(wc -l <"$LIST")"
expect_eq "add: the answer has the new ETag" "$(jv "$BODY" 'j["etag"]')" "$(etag)"

E=$(etag)
EDIT='{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:01","lines":[{"ext":"299","cid_name":"Renamed"},{"ext":"298"}]}'
expect_eq "edit a phone" "$(api PUT /api/phones/805ec0aabb01 -H "If-Match: $E" -d "$EDIT")" 200
PW=$(awk '{print $4}' <<<"$ADDED")
expect_eq "edit: the password and the MAC's spelling kept" "$(tail -n 1 "$LIST")" "yealink-t4x 80:5E:C0:AA:BB:01 299/Renamed;298 $PW"
head -c "$(stat -c %s "$ORIG")" "$LIST" >"$T_WORK/head"
check "edit: the rest of the file stays" cmp -s "$T_WORK/head" "$ORIG"
expect_eq "edit: mode kept" "$(stat -c %a "$LIST")" 640

# a phone in the middle of the file, between comments
MID=$(grep -m1 -n '^yealink-t4x-2line' "$ORIG" | cut -d: -f1)
MIDMAC=$(sed -n "${MID}p" "$ORIG" | awk '{print $2}' | tr -d : )
E=$(etag)
api GET "/api/phones/$MIDMAC" >/dev/null
python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["phone"]; j["enabled"]=False; print(json.dumps(j))' "$BODY" >"$T_WORK/dis.json"
expect_eq "disable a phone" "$(api PUT "/api/phones/$MIDMAC" -H "If-Match: $E" -d @"$T_WORK/dis.json")" 200
expect_eq "disabled: one documented comment form" "$(sed -n "${MID}p" "$LIST")" "#ptc-disabled $(sed -n "${MID}p" "$ORIG")"
expect_eq "disabled: listed as such" "$(api GET "/api/phones/$MIDMAC" >/dev/null; jv "$BODY" 'j["phone"]["enabled"]')" false
E=$(etag)
sed 's/"enabled": false/"enabled": true/' "$T_WORK/dis.json" >"$T_WORK/en.json"
expect_eq "enable it again" "$(api PUT "/api/phones/$MIDMAC" -H "If-Match: $E" -d @"$T_WORK/en.json")" 200
expect_eq "enabled: the line as it was" "$(sed -n "${MID}p" "$LIST")" "$(sed -n "${MID}p" "$ORIG")"

E=$(etag)
expect_eq "delete a phone" "$(api DELETE /api/phones/805ec0aabb01 -H "If-Match: $E")" 200
check "delete: the file is the original again, byte for byte" cmp -s "$LIST" "$ORIG"
expect_eq "delete: an unknown phone" "$(api DELETE /api/phones/805ec0aabb01 -H "If-Match: $(etag)")" 404

# an edit behind the server's back
E=$(etag)
printf '# edited by hand\n' >>"$LIST"
cp "$LIST" "$T_WORK/hand.conf"
expect_eq "a stale ETag: 412" "$(api POST /api/phones -H "If-Match: $E" -d "$NEW")" 412
check "412: nothing written" cmp -s "$LIST" "$T_WORK/hand.conf"
cp "$ORIG" "$LIST"

# every field error: 422, the field named, nothing written
field_err() {  # DESCRIPTION JSON FIELD CODE
  local st
  st=$(api POST /api/phones -H "If-Match: $(etag)" -d "$2")
  expect_eq "$1: 422" "$st" 422
  expect_eq "$1: field and code" "$(jv "$BODY" '[[e["field"], e["code"]] for e in j["errors"]][0]')" "[\"$3\", \"$4\"]"
  check "$1: nothing written" cmp -s "$LIST" "$ORIG"
}
field_err "bad MAC" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb","lines":[{"ext":"299"}]}' mac bad-mac
field_err "no MAC" '{"template":"yealink-t4x","lines":[{"ext":"299"}]}' mac required
field_err "duplicate MAC" '{"template":"yealink-t4x","mac":"80:5e:c0:1a:2b:01","lines":[{"ext":"299"}]}' mac duplicate-mac
field_err "unknown template" '{"template":"nope","mac":"80:5e:c0:aa:bb:02","lines":[{"ext":"299"}]}' template unknown-template
field_err "no lines" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[]}' lines bad-lines
field_err "seven lines" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[{"ext":"1"},{"ext":"2"},{"ext":"3"},{"ext":"4"},{"ext":"5"},{"ext":"6"},{"ext":"7"}]}' lines bad-lines
field_err "no extension" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[{"cid_name":"x"}]}' 'lines[0].ext' required
field_err "a space in a field" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[{"ext":"2 99"}]}' 'lines[0].ext' bad-value
field_err "bad line-2 extension" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[{"ext":"299"},{"ext":"2;9"}]}' 'lines[1].ext' bad-value
field_err "duplicate extension" '{"template":"yealink-t4x","mac":"80:5e:c0:aa:bb:02","lines":[{"ext":"201"}]}' 'lines[0].ext' duplicate-ext
expect_eq "not JSON: 400" "$(api POST /api/phones -H "If-Match: $(etag)" -d '{nope')" 400
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T_WORK/huge.json"
expect_eq "a body over 1 MiB: 413" "$(api POST /api/phones -H "If-Match: $(etag)" --data-binary @"$T_WORK/huge.json")" 413
expect_eq "a method a call does not take: 405" "$(api PATCH /api/phones)" 405
expect_eq "no such call: 404" "$(api GET /api/nope)" 404
check "nothing written by any of them" cmp -s "$LIST" "$ORIG"

# the checks follow the templates: the server remembers the last lint, but a
# template removed behind its back is the list's problem, not the next change's
expect_eq "add (the lint remembered)" "$(api POST /api/phones -H "If-Match: $(etag)" -d "$NEW")" 201
expect_eq "delete (the lint of the original remembered)" "$(api DELETE /api/phones/805ec0aabb01 -H "If-Match: $(etag)")" 200
mv "$R/mnt/kd/phoneprov/templates/fanvil-x.conf" "$T_WORK/fanvil-x.conf"
expect_eq "a change while another phone's template is gone" "$(api POST /api/phones -H "If-Match: $(etag)" -d "$NEW")" 201
mv "$T_WORK/fanvil-x.conf" "$R/mnt/kd/phoneprov/templates/"
cp "$ORIG" "$LIST"

# reveal
expect_eq "reveal (admin)" "$(api GET "/api/phones/$MIDMAC?reveal=1")" 200
PWMID=$(sed -n "${MID}p" "$ORIG" | awk '{print $4}')
expect_eq "reveal: the password" "$(jv "$BODY" 'j["phone"]["lines"][0]["password"]')" "$PWMID"

# ---- import and export ----
expect_eq "export" "$(api GET /api/export)" 200
check "export: the file itself" cmp -s "$BODY" "$ORIG"
printf 'yealink-t4x 80:5e:c0:aa:bb:05 305/Imported ImpPassw0rd1\n' >"$T_WORK/imp.conf"
expect_eq "import merge, dry run" "$(api POST '/api/import?mode=merge&dry_run=1' -H "If-Match: $(etag)" --data-binary @"$T_WORK/imp.conf")" 200
expect_eq "dry run: counts" "$(jv "$BODY" '[j["added"], j["dry_run"]]')" '[1, true]'
check "dry run: nothing written" cmp -s "$LIST" "$ORIG"
expect_eq "import merge" "$(api POST '/api/import?mode=merge' -H "If-Match: $(etag)" --data-binary @"$T_WORK/imp.conf")" 200
check "merge: the original kept" cmp -s <(head -c "$(stat -c %s "$ORIG")" "$LIST") "$ORIG"
check "merge: the phone appended" grep -q '^yealink-t4x 80:5e:c0:aa:bb:05 305/Imported ImpPassw0rd1$' "$LIST"
printf 'yealink-t4x 80:5e:c0:aa:bb:06 306 ImpPassw0rd2\nnope 80:5e:c0:aa:bb:07 307 ImpPassw0rd3\n' >"$T_WORK/bad.conf"
cp "$LIST" "$T_WORK/before.conf"
expect_eq "import with an error: 422" "$(api POST '/api/import?mode=replace' -H "If-Match: $(etag)" --data-binary @"$T_WORK/bad.conf")" 422
check "all or nothing" cmp -s "$LIST" "$T_WORK/before.conf"
expect_eq "import replace" "$(api POST '/api/import?mode=replace' -H "If-Match: $(etag)" --data-binary @"$T_WORK/imp.conf")" 200
expect_eq "replace: one phone left" "$(api GET /api/phones >/dev/null; jv "$BODY" '[p["mac"] for p in j["phones"]]')" '["805ec0aabb05"]'
expect_eq "import bad mode" "$(api POST '/api/import?mode=wipe' -H "If-Match: $(etag)" --data-binary @"$T_WORK/imp.conf")" 422
cp "$ORIG" "$LIST"

# ---- templates and settings ----
expect_eq "templates" "$(api GET /api/templates)" 200
expect_eq "templates: every one" "$(jv "$BODY" 'len(j["templates"])')" "$(ls "$R"/mnt/kd/phoneprov/templates/*.conf | wc -l)"
expect_eq "templates: menu_name" "$(jv "$BODY" '[t.get("menu_name") for t in j["templates"] if t["name"]=="yealink-t4x"][0]')" \
  "$(sed -n 's/^menu_name=//p' "$R/mnt/kd/phoneprov/templates/yealink-t4x.conf")"
expect_eq "settings" "$(api GET /api/settings)" 200
expect_eq "settings: defaults" "$(jv "$BODY" '[j["gw_if"], j["gw_if_default"], j["lines_shown"]]')" '["", "INTIF", 2]'
check "settings: INTIF offered with its address" grep -q '"name": *"INTIF", *"device": *"eth1", *"address": *"10.0.0.1"' <(jv "$BODY" 'j["interfaces"]')
expect_eq "settings: lines_shown 7 refused" "$(api PUT /api/settings -d '{"lines_shown":7}')" 422
expect_eq "settings: the field" "$(jv "$BODY" 'j["errors"][0]["field"]')" lines_shown
expect_eq "settings: unknown interface refused" "$(api PUT /api/settings -d '{"gw_if":"eth9"}')" 422
expect_eq "settings: set" "$(api PUT /api/settings -d '{"lines_shown":4,"gw_if":"INTIF"}')" 200
expect_eq "settings: read back" "$(api GET /api/phones >/dev/null; jv "$BODY" 'j["lines_shown"]')" 4
check "rc.conf never rewritten" grep -qx 'PHONEPROV_GW_IF="INTIF"' "$R/etc/rc.conf"

# ---- Generate ----
expect_eq "generate: dry run" "$(api POST /api/generate -d '{"dry_run":true}')" 200
expect_eq "dry run: created, nothing written" "$(jv "$BODY" '[j["created"], j["dry_run"]]'):$(ls "$R/mnt/kd/phoneprov" | grep -c yealink)" "[18, true]:0"
expect_eq "generate" "$(api POST /api/generate -d '{"reload":false}')" 200
expect_eq "generate: counts" "$(jv "$BODY" '[j["created"], j["changed"], j["rows"]]')" "[18, 0, $(grep -c '^[a-z]' "$ORIG" | awk '{print $1+2}')]"
# the same list through ptc run, in another root: the same tree and table
R2=$(mkroot cli)
cp "$REPO_DIR"/templates/*.conf "$R2/mnt/kd/phoneprov/templates/"
ptc_run "$R2" -q "$LIST" || fail "ptc run on the same list"
check "generated tree identical to ptc run's" diff -r "$R/mnt/kd/phoneprov/yealink" "$R2/mnt/kd/phoneprov/yealink"
check "include files identical" diff -r "$R/mnt/kd/asterisk" "$R2/mnt/kd/asterisk"
expect_eq "phoneprov table identical" "$(sqlite3 "$R/mnt/kd/asterisk-odbc.sqlite3" .dump)" "$(sqlite3 "$R2/mnt/kd/asterisk-odbc.sqlite3" .dump)"

# a dry run's diff after a change: the passwords masked, old and new
P1=$(grep -m1 '^yealink-t4x ' "$LIST" | awk '{print $4}')
sed -i "0,/^yealink-t4x \(.*\) $P1\$/s//yealink-t4x \1 Chang3dPassw0rd/" "$LIST"
sed -i '0,/Front_Desk/s//Front_Desk_2/' "$LIST"
expect_eq "dry run after a change" "$(api POST /api/generate -d '{"dry_run":true}')" 200
jv "$BODY" '"".join(f.get("diff","") for f in j["files"])' >"$T_WORK/diff"
check "the diff names the change" grep -qx '+account.1.display_name = Front Desk 2' "$T_WORK/diff"
check "the diff is unified" grep -q '^@@ -[0-9]*,[0-9]* +[0-9]*,[0-9]* @@$' "$T_WORK/diff"
check "the old and new passwords masked" grep -qx -- '-account.1.password = \*\*\*\*\*\*\*\*' "$T_WORK/diff"
check "no password in the answer" bash -c "! grep -q -e '$P1' -e Chang3dPassw0rd '$BODY'"
expect_eq "dry run: the files named" "$(jv "$BODY" '[f["path"] for f in j["files"]]')" \
  '["/mnt/kd/phoneprov/yealink/805ec01a2b01.cfg", "/mnt/kd/asterisk/includes/astlinux-phoneprov-sip.conf"]'
# the diff applies: unmask against the real old file and patch it
cp "$R/mnt/kd/phoneprov/yealink/805ec01a2b01.cfg" "$T_WORK/old.cfg"
jv "$BODY" 'j["files"][0]["diff"]' | sed -e "s/^-account.1.password = \*\{8\}$/-account.1.password = $P1/" \
  -e 's/^+account.1.password = \*\{8\}$/+account.1.password = Chang3dPassw0rd/' >"$T_WORK/p.diff"
check "the diff applies with patch" patch -s "$T_WORK/old.cfg" "$T_WORK/p.diff"
ptc_run "$R2" -q -f "$LIST"
check "and gives ptc run's file" cmp -s "$T_WORK/old.cfg" "$R2/mnt/kd/phoneprov/yealink/805ec01a2b01.cfg"

# two at once: a big list, two Generates; one runs, the other gets 409
python3 - "$LIST" <<'EOF'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(6000):
        f.write("yealink-t4x 02:00:00:%02x:%02x:%02x %d Passw0rd%06d\n" % (i >> 16, (i >> 8) & 255, i & 255, 100000 + i, i))
EOF
(curl -s -m 120 -o "$T_WORK/g1" -w '%{http_code}' -b "$JAR" -X POST -H "X-CSRF-Token: $CSRF" -d '{}' "$B/api/generate" >"$T_WORK/s1") &
G1=$!
sleep 0.05
S2=$(curl -s -m 120 -o "$T_WORK/g2" -w '%{http_code}' -b "$JAR" -X POST -H "X-CSRF-Token: $CSRF" -d '{}' "$B/api/generate")
PROG=$(api GET /api/generate; echo " $(jv "$BODY" 'j["running"]')")
wait $G1
expect_eq "two Generates: one runs, one is refused" "$(cat "$T_WORK/s1") $S2" "200 409"
expect_eq "409 names who holds it" "$(jv "$T_WORK/g2" '[j["code"], j["user"]]')" '["busy", "admin"]'
expect_eq "progress readable while it runs" "$PROG" "200 true"
expect_eq "the last result kept" "$(api GET /api/generate >/dev/null; jv "$BODY" '[j["running"], j["last"]["phones"]]')" "[false, $((14 + 6000))]"
# a ptc run in a shell holds the run lock: 409 too
flock "$R/mnt/kd" sh -c "touch '$T_WORK/locked'; sleep 4" &
FL=$!
for _ in $(seq 1 100); do [ -e "$T_WORK/locked" ] && break; sleep 0.05; done
expect_eq "a ptc run holding the lock: 409" "$(api POST /api/generate -d '{}')" 409
wait $FL
cp "$ORIG" "$LIST"
# an error in the list: file, line and column
printf 'yealink-t4x 80:5e:c0:aa:bb:09 201 Passw0rdDup\n' >>"$LIST"
expect_eq "generate with an error: 422" "$(api POST /api/generate -d '{}')" 422
expect_eq "the error located" "$(jv "$BODY" '[e["file"], e["line"], e["column"], e["code"]] if (e:=j["errors"][0]) else 0')" \
  "[\"$LIST\", $(wc -l <"$LIST"), 31, \"duplicate-ext\"]"
cp "$ORIG" "$LIST"
expect_eq "generate: bad argument" "$(api POST /api/generate -d '{"dry_run":"yes"}')" 422

# ---- status and notify ----
expect_eq "status" "$(api GET /api/status)" 200
expect_eq "status: never fetched" "$(jv "$BODY" '[j["generated"], j["counts"]["never"] > 0, j["phones"][0]["state"]]')" '[true, true, "never"]'
# what ptc serve's audit recorded (its schema, src/serve/serve_audit.c): two fetches, 30 min and 5 h ago
NOW=$(date +%s)
MT=$(stat -c %Y "$R/mnt/kd/phoneprov/yealink/805ec01a2b01.cfg")
sqlite3 "$R/mnt/kd/phoneprov-audit.sqlite3" "
CREATE TABLE phoneprov_fetch (mac_addr TEXT NOT NULL, path TEXT NOT NULL, fetched_at INTEGER NOT NULL,
  client_addr TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, bytes INTEGER NOT NULL,
  user_agent TEXT, firmware TEXT, file_mtime_ns INTEGER NOT NULL, PRIMARY KEY (mac_addr, path));
INSERT INTO phoneprov_fetch VALUES ('805ec01a2b01', 'yealink/805ec01a2b01.cfg', $((NOW - 1800)), '10.0.0.31', 'GET', 200, 500,
  'Yealink SIP-T46S 66.86.0.15 80:5e:c0:1a:2b:01', '66.86.0.15', $((MT + 1))000000000);
INSERT INTO phoneprov_fetch VALUES ('805ec01a2b02', 'yealink/805ec01a2b02.cfg', $((NOW - 5 * 3600 - 60)), '10.0.0.32', 'GET', 200, 500,
  'Yealink SIP-T46S 66.86.0.15 80:5e:c0:1a:2b:02', '66.86.0.15', 0);"
expect_eq "status with the audit" "$(api GET /api/status)" 200
expect_eq "status: the last fetch, its User-Agent and firmware" \
  "$(jv "$BODY" '[[p["state"], p["last_fetch"]["addr"], p["last_fetch"]["user_agent"], p["last_fetch"]["firmware"]] for p in j["phones"] if p["mac"]=="805ec01a2b01"][0]')" \
  '["ok", "10.0.0.31", "Yealink SIP-T46S 66.86.0.15 80:5e:c0:1a:2b:01", "66.86.0.15"]'
expect_eq "status: a file changed since it was fetched is stale" \
  "$(jv "$BODY" '[p["state"] for p in j["phones"] if p["mac"]=="805ec01a2b02"][0]')" stale
expect_eq "status: fetches per hour, oldest first" "$(jv "$BODY" '[j["fetches_by_hour"][-1], j["fetches_by_hour"][-6], sum(j["fetches_by_hour"])]')" "[1, 1, 2]"
expect_eq "notify: reboot one phone" "$(api POST /api/notify -d '{"macs":["80:5e:c0:1a:2b:01"],"action":"reboot"}')" 200
expect_eq "notify: sent" "$(jv "$BODY" '[j["failed"], j["results"][0]["sent"], j["results"][0]["action"]]')" '[0, true, "reboot"]'
check "notify: asterisk asked" grep -q 'notify' "$NOTIFY_LOG"
expect_eq "notify: unknown phone" "$(api POST /api/notify -d '{"macs":["02:00:00:99:99:99"],"action":"resync"}')" 422
expect_eq "notify: the field" "$(jv "$BODY" '[j["errors"][0]["field"], j["errors"][0]["code"]]')" '["macs[0]", "unknown-phone"]'
expect_eq "notify: bad action" "$(api POST /api/notify -d '{"macs":["80:5e:c0:1a:2b:01"],"action":"explode"}')" 422

# ---- a viewer ----
expect_eq "viewer login" "$(login view V1ewer-secret)" 200
CSRF=$(jv "$BODY" 'j["csrf"]')
expect_eq "viewer reads" "$(api GET /api/phones)" 200
expect_eq "viewer refused a change" "$(api POST /api/phones -H "If-Match: $(etag)" -d "$NEW")" 403
expect_eq "viewer refused Generate" "$(api POST /api/generate -d '{}')" 403
expect_eq "viewer refused passwords" "$(api GET "/api/phones/$MIDMAC?reveal=1")" 403
expect_eq "viewer refused export" "$(api GET /api/export)" 403
check "viewer: nothing written" cmp -s "$LIST" "$ORIG"
expect_eq "logout" "$(api POST /api/logout)" 204
expect_eq "after logout: 401" "$(api GET /api/phones)" 401

# ---- throttling: after 5 failures (per user, per address) the next attempt
# waits 1 s, after 6 it waits 2 s, ... (429 meanwhile, even with the right password) ----
seen=
for i in 1 2 3 4 5 6 7 8; do
  st=$(login view "wrong$i")
  [ "$st" = 429 ] && { seen=$i; break; }
done
check "failed logins are throttled" test -n "$seen"
check "not before the 5th failure" test "${seen:-0}" -gt 3
wait_s=$(grep -o 'try again in [0-9]* s' "$BODY" | grep -o '[0-9]*')
check "429 says how long to wait" test -n "$wait_s"
sleep "$((${wait_s:-1} + 1))"
expect_eq "after the wait, one more try" "$(login view wrong-again)" 401
expect_eq "then even the right password waits" "$(login view V1ewer-secret)" 429
check "and is told how long" grep -q '"code":"throttled"' "$BODY"

# ---- logs ----
ALOG=$R/mnt/kd/ptc/web-admin.log
expect_eq "admin log is 0600" "$(stat -c %a "$ALOG")" 600
check "admin log: the edit with its MAC" grep -q '"action":"phone-edit","macs":\["805ec0aabb01"\]' "$ALOG"
check "admin log: reveal" grep -q '"action":"reveal-password"' "$ALOG"
check "admin log: notify" grep -q '"action":"notify-reboot"' "$ALOG"
for s in Adm1n-secret V1ewer-secret "$PW" "$PWMID" Chang3dPassw0rd "$ADMIN_CSRF" "$ADMIN_TOKEN"; do
  check "no secret in the logs ($s)" bash -c "! grep -qF -- '$s' '$ALOG' '$ERR'"
done
check "no session token in the logs" bash -c "! grep -Eq '[0-9a-f]{64}' '$ALOG' '$ERR'"
stop_web
expect_eq "SIGTERM stops it" "$?" 0

# ---- HTTPS by default: a self-signed certificate made once ----
start_web --tls-listen 127.0.0.1:0
expect_eq "certificate and key 0600" "$(stat -c %a "$R/mnt/kd/ptc/web-key.pem") $(stat -c %a "$R/mnt/kd/ptc/web-cert.pem")" "600 600"
B=https://127.0.0.1:$PORT
code=$(curl -sk -o "$BODY" -D "$HDRS" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"user":"admin","password":"Adm1n-secret"}' "$B/api/login")
expect_eq "HTTPS login" "$code" 200
check "the cookie is Secure on HTTPS" grep -qi 'set-cookie: ptc_session=.*; Secure' "$HDRS"
check "HSTS on HTTPS" grep -qi 'strict-transport-security' "$HDRS"
expect_eq "plain HTTP to the HTTPS port fails" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/session")" 000
stop_web

[ "$T_FAIL" -gt 0 ] && cp "$T_WORK/web-all.err" /tmp/web-failed.err
finish
