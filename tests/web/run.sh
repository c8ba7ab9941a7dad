#!/usr/bin/env bash
# make check-web: the pages in Debian's Chromium (tests/web/flow.mjs)
# against a real ptc web on 127.0.0.1 with a temporary root, then the
# generated file served by a real ptc serve.  Screenshots go to
# $SHOTS (build/web-shots), a CI artifact shown in docs/web.md.
# Environment: PTC (the binary), NODE_DIR (the folder npm installed
# playwright-core into), SHOTS.
. "$(dirname "$0")/../lib.sh"
SHOTS=${SHOTS:?}
mkdir -p "$SHOTS"

R=$(mkroot web)
cp "$REPO_DIR"/templates/*.conf "$R/mnt/kd/phoneprov/templates/"
cp "$REPO_DIR/examples/massdeployment.conf" "$R/mnt/kd/massdeployment.conf"
echo 'Adm1n-secret' | "$PTC" passwd --root "$R" admin || fail "ptc passwd"
printf 'yealink-t4x 80:5e:c0:aa:bb:07 307/Imported Imp0rtedPassw0rd\n' >"$T_WORK/import.conf"

BIN=$T_WORK/bin                          # Asterisk is not packaged for Debian 12: its CLI stand-in
mkdir -p "$BIN"
cp "$TESTS_DIR/fixtures/asterisk-standin" "$BIN/asterisk"
export NOTIFY_LOG=$T_WORK/notify.log
ERR=$T_WORK/web.err
PATH=$BIN:$PATH "$PTC" web --root "$R" --cache-dir "$T_WORK/cache" --listen 127.0.0.1:0 2>"$ERR" &
PID=$!
PORT=$(port_of "$ERR" $PID)
[ -n "$PORT" ] || { fail "ptc web did not start"; cat "$ERR" >&2; finish; }

if BASE=http://127.0.0.1:$PORT IMPORT=$T_WORK/import.conf LIST=$R/mnt/kd/massdeployment.conf SHOTS=$SHOTS node "$TESTS_DIR/web/flow.mjs"; then ok; else fail "the browser flow"; fi
kill -TERM $PID; wait $PID
expect_eq "ptc web stops cleanly" "$?" 0

# what the browser generated is in the tree, and ptc serve hands it to the phone
F=$R/mnt/kd/phoneprov/yealink/805ec01a2b01.cfg
check "the generated file is in the tree" test -s "$F"
check "the reboot reached Asterisk's CLI" grep -q 'notify' "$NOTIFY_LOG"
check "the disabled phone got none" test ! -e "$R/mnt/kd/phoneprov/yealink/805ec0aabb01.cfg"
check "the list keeps it, disabled" grep -q '^#ptc-disabled yealink-t4x 80:5e:c0:aa:bb:01 299/Renamed_Desk ' "$R/mnt/kd/massdeployment.conf"
printf 'PHONEPROV_ALLOW="127.0.0.1"\n' >>"$R/etc/rc.conf"
"$PTC" serve --root "$R" --listen 127.0.0.1:0 2>"$T_WORK/serve.err" &
SPID=$!
SPORT=$(port_of "$T_WORK/serve.err" $SPID)
curl -s -o "$T_WORK/got.cfg" -A 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:1a:2b:01' \
  "http://127.0.0.1:$SPORT/phoneprov/yealink/805ec01a2b01.cfg"
check "ptc serve serves it" cmp -s "$T_WORK/got.cfg" "$F"
kill -TERM $SPID; wait $SPID
finish
