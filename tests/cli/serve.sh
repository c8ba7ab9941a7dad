#!/usr/bin/env bash
# ptc serve / ptc status as a process: options and exit statuses, start-up
# messages, SIGHUP reload (allowlist from rc.conf), SIGTERM stop, the access
# log and `ptc status` on what the server recorded.  The request-level rules
# are in tests/test_serve.c; this is the process around them.
. "$(dirname "$0")/../lib.sh"

command -v curl >/dev/null || { echo "serve: curl missing (make deps installs it), skipped"; exit 0; }

# ---- usage ----
out=$("$PTC" serve --help); rc=$?
expect_eq "serve --help exits 0" "$rc" 0
check "serve --help prints usage" grep -q -- '--mac-check' <<<"$out"
"$PTC" serve --bogus >/dev/null 2>&1; expect_eq "serve bad option" "$?" 64
"$PTC" serve --tls-listen 127.0.0.1:0 >/dev/null 2>&1; expect_eq "serve --tls-listen without --cert" "$?" 64
"$PTC" serve --mac-check maybe >/dev/null 2>&1; expect_eq "serve bad --mac-check" "$?" 64
"$PTC" status --help >/dev/null; expect_eq "status --help exits 0" "$?" 0
"$PTC" status --bogus >/dev/null 2>&1; expect_eq "status bad option" "$?" 64

# ---- a root with phones ----
R=$(mkroot serve)
printf 'PHONEPROV_ALLOW="127.0.0.2"\n' >>"$R/etc/rc.conf"
mkdir -p "$R/mnt/kd/phoneprov/yealink"
printf 'account.1.password = SECRETPASS\n' >"$R/mnt/kd/phoneprov/yealink/001565aaa937.cfg"
printf 'common\n' >"$R/mnt/kd/phoneprov/yealink/y000000000028.cfg"
printf 'yealink,00:15:65:aa:a9:37,201,SECRET\n' >"$R/mnt/kd/phoneprov/massdeployment.conf"
sqlite3 "$R/mnt/kd/asterisk-odbc.sqlite3" "
CREATE TABLE phoneprov (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ext TEXT DEFAULT '', cid_name TEXT DEFAULT '',
  cid_num TEXT DEFAULT '', account TEXT DEFAULT '', line INTEGER DEFAULT 1, mac_addr TEXT DEFAULT '',
  template TEXT DEFAULT '', model TEXT DEFAULT '', vendor TEXT DEFAULT '', sip_driver TEXT DEFAULT '');
INSERT INTO phoneprov (ext, mac_addr, model, vendor) VALUES ('201', '00:15:65:aa:a9:37', 'T46S', 'yealink'),
  ('202', '00:15:65:11:22:33', 'T46S', 'yealink');"

"$PTC" serve --root "$R/none" --listen 127.0.0.1:0 2>"$T_WORK/err1"; rc=$?
expect_eq "serve without a base directory fails" "$rc" 1
check "and says why" grep -q 'base directory' "$T_WORK/err1"

LOG=$T_WORK/access.log
"$PTC" serve --root "$R" --listen 127.0.0.1:0 --access-log "$LOG" 2>"$T_WORK/err" &
PID=$!
PORT=
for _ in $(seq 1 200); do
  PORT=$(grep -o 'http://127.0.0.1:[0-9]*' "$T_WORK/err" 2>/dev/null | head -1 | sed 's/.*://')
  [ -n "$PORT" ] && break
  kill -0 $PID 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  fail "server did not start"; cat "$T_WORK/err" >&2; kill $PID 2>/dev/null
else
  U="http://127.0.0.1:$PORT/phoneprov/yealink"
  YUA="Yealink SIP-T46S 66.86.0.15 00:15:65:aa:a9:37"
  code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
  expect_eq "allowed source" "$(code --interface 127.0.0.2 -A "$YUA" "$U/001565aaa937.cfg")" 200
  # Off the allowlist: closed at accept, no HTTP answer at all (curl: 000).
  expect_eq "other source" "$(code --interface 127.0.0.1 -A "$YUA" "$U/001565aaa937.cfg")" 000
  expect_eq "phone list" "$(code --interface 127.0.0.2 "http://127.0.0.1:$PORT/phoneprov/massdeployment.conf")" 404
  expect_eq "dot-dot" "$(code --path-as-is --interface 127.0.0.2 "$U/../../asterisk-odbc.sqlite3")" 400
  # Another phone's file answers like a missing one: a sweep learns nothing.
  expect_eq "another phone's MAC" "$(code --interface 127.0.0.2 -A 'Yealink SIP-T46S 66.86.0.15 00:15:65:11:22:33' "$U/001565aaa937.cfg")" 404
  expect_eq "HTTP/1.1 without Host" "$(code --interface 127.0.0.2 -H 'Host:' "$U/y000000000028.cfg")" 400
  body=$(curl -s --interface 127.0.0.2 -A "$YUA" "$U/001565aaa937.cfg")
  expect_eq "file content" "$body" "account.1.password = SECRETPASS"

  # Kept ready in memory after the first request (src/serve/serve_cache.c),
  # but never served once the file changed: in place (same inode, same
  # size), replaced by rename as ptc run does, or turned into a symlink
  # out of the base.
  get() { curl -s --interface 127.0.0.2 -A "$YUA" "$U/$1"; }
  F=$R/mnt/kd/phoneprov/yealink/y000000000028.cfg
  expect_eq "cached: first" "$(get y000000000028.cfg)" common
  expect_eq "cached: again" "$(get y000000000028.cfg)" common
  printf 'COMMON' | dd of="$F" bs=1 conv=notrunc status=none
  expect_eq "cached: edited in place, same size: the new bytes" "$(get y000000000028.cfg)" COMMON
  printf 'renamed\n' >"$F.new" && mv "$F.new" "$F"
  expect_eq "cached: replaced by rename: the new bytes" "$(get y000000000028.cfg)" renamed
  hdrs=$(curl -s -D - -o /dev/null --interface 127.0.0.2 -A "$YUA" "$U/y000000000028.cfg")
  expect_eq "cached: a 200 keeps every header" \
    "$(grep -ci -e '^etag: "' -e '^cache-control: private, no-cache' -e '^x-content-type-options: nosniff' -e '^last-modified: ' <<<"$hdrs")" 4
  etag=$(grep -i '^etag:' <<<"$hdrs" | cut -d' ' -f2 | tr -d '\r')
  expect_eq "cached: If-None-Match gives 304" "$(code --interface 127.0.0.2 -A "$YUA" -H "If-None-Match: $etag" "$U/y000000000028.cfg")" 304
  expect_eq "cached: HEAD sends no body" "$(curl -s -I --interface 127.0.0.2 -A "$YUA" "$U/y000000000028.cfg" | grep -ci '^content-length: 8')" 1
  printf 'outside\n' >"$T_WORK/outside.cfg"
  rm "$F" && ln -s "$T_WORK/outside.cfg" "$F"
  expect_eq "cached: now a symlink out of the base: refused" "$(code --interface 127.0.0.2 -A "$YUA" "$U/y000000000028.cfg")" 404
  rm "$F" && printf 'common\n' >"$F"
  expect_eq "cached: back again" "$(get y000000000028.cfg)" common
  if command -v strace >/dev/null; then   # kept ready: not opened again
    strace -f -qq -e trace=openat,openat2 -o "$T_WORK/serve.trace" -p "$PID" 2>/dev/null &
    SPID=$!
    for _ in $(seq 1 50); do [ -s "$T_WORK/serve.trace" ] || grep -q . /proc/$SPID/status 2>/dev/null && break; sleep 0.1; done
    sleep 0.5
    for _ in 1 2 3; do get y000000000028.cfg >/dev/null; done
    sleep 0.3; kill $SPID; wait $SPID 2>/dev/null
    expect_eq "cached: three more requests open nothing" "$(grep -c y000000000028 "$T_WORK/serve.trace")" 0
  else
    echo "serve: strace is not installed: the check that a cached file is not opened again is skipped" >&2
  fi

  # SIGHUP: the allowlist from rc.conf again.
  sed -i 's/^PHONEPROV_ALLOW=.*/PHONEPROV_ALLOW="127.0.0.0\/24"/' "$R/etc/rc.conf"
  kill -HUP $PID
  st=
  for _ in $(seq 1 100); do
    st=$(code --interface 127.0.0.1 -A "$YUA" "$U/001565aaa937.cfg"); [ "$st" = 200 ] && break; sleep 0.1
  done
  expect_eq "allowed after SIGHUP" "$st" 200
  # A broken allowlist on SIGHUP: refused, the old one stays, the reason logged.
  sed -i 's/^PHONEPROV_ALLOW=.*/PHONEPROV_ALLOW="10.0.0.0\/99"/' "$R/etc/rc.conf"
  kill -HUP $PID
  for _ in $(seq 1 100); do grep -q 'keeping the old configuration' "$T_WORK/err" && break; sleep 0.1; done
  check "bad reload logged with a reason" grep -q "bad allowlist entry '10.0.0.0/99'" "$T_WORK/err"
  expect_eq "old allowlist kept" "$(code --interface 127.0.0.1 -A "$YUA" "$U/y000000000028.cfg")" 200

  # SIGTERM: a clean stop, exit 0, everything flushed.
  kill -TERM $PID
  wait $PID; rc=$?
  expect_eq "SIGTERM exit status" "$rc" 0
  check "stop logged" grep -q 'SIGTERM: stopping' "$T_WORK/err"
  check "access log line" grep -q ' 127.0.0.2 GET /phoneprov/yealink/001565aaa937.cfg 200 32 mac=001565aaa937 ua="Yealink' "$LOG"
  check "refusal logged with reason" grep -q 'refused="User-Agent names another phone"' "$LOG"
  if grep -q SECRETPASS "$LOG" "$T_WORK/err"; then fail "a password reached a log"; else ok; fi

  # ptc status: the Yealink fetched, the other never did.
  out=$("$PTC" status --root "$R"); rc=$?
  expect_eq "status exit" "$rc" 0
  check "status: fetched phone ok" grep -Eq '^00:15:65:aa:a9:37 +201 .*127\.0\.0\.(1|2) +66\.86\.0\.15 +ok$' <<<"$out"
  check "status: never fetched" grep -Eq '^00:15:65:11:22:33 .*NEVER fetched' <<<"$out"
  "$PTC" status --root "$R" --check >/dev/null; expect_eq "status --check flags" "$?" 3
  touch -d '+1 hour' "$R/mnt/kd/phoneprov/yealink/001565aaa937.cfg"
  out=$("$PTC" status --root "$R")
  check "status: stale after regeneration" grep -Eq '^00:15:65:aa:a9:37 .*STALE: yealink/001565aaa937.cfg' <<<"$out"
fi

# ---- a blank --allow is refused -----------------------------------------
for spec in '' ' ' ','; do
  "$PTC" serve --root "$R" --listen 127.0.0.1:0 --allow "$spec" 2>"$T_WORK/errb"; rc=$?
  expect_eq "serve --allow '$spec' fails" "$rc" 1
  check "and says why ('$spec')" grep -q -- '--allow is empty' "$T_WORK/errb"
done

# ---- the access log on stderr, a pipe nobody drains ---------------------------
# Requests used to hang after 64 KiB of log, and SIGTERM with them.
mkfifo "$T_WORK/stalled"
exec 9<>"$T_WORK/stalled"               # held open, never read
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PTC" serve --root "$R" --listen "127.0.0.1:$PORT" --allow 127.0.0.2 --audit-db off \
  --access-log - 2>"$T_WORK/stalled" >"$T_WORK/out2" &
PID=$!
for _ in $(seq 1 50); do
  curl -s -o /dev/null --interface 127.0.0.2 "http://127.0.0.1:$PORT/phoneprov/" && break; sleep 0.1
done
if ! kill -0 $PID 2>/dev/null; then
  fail "stalled-log server did not start"; kill -9 $PID 2>/dev/null
else
  UA=$(head -c 3000 /dev/zero | tr '\0' u)
  okn=0
  for i in $(seq 1 150); do       # ~450 KiB of log: far past the pipe's 64 KiB
    [ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -A "$UA" \
         "http://127.0.0.1:$PORT/phoneprov/yealink/y000000000028.cfg")" = 200 ] && okn=$((okn+1))
  done
  expect_eq "requests answered while the log is stalled" "$okn" 150
  kill -TERM $PID
  for _ in $(seq 1 50); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
  if kill -0 $PID 2>/dev/null; then fail "SIGTERM ignored with a stalled log"; kill -9 $PID; else ok; fi
  wait $PID; expect_eq "stalled-log server exit status" "$?" 0
fi
exec 9<&-

finish
