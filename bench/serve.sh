#!/usr/bin/env bash
# Load test of `ptc serve` against nginx serving the same files, with wrk on
# loopback: requests per second and latency side by side.
#
#   bench/serve.sh [PTC]        PTC: the ptc binary (default build/ptc)
#   BENCH_SECONDS=10            length of each measured run
#   BENCH_CONNS=64              concurrent connections (keep-alive)
#
# Both servers get the same work: a phone's MAC file (2 KiB) behind an
# allowlist (127.0.0.0/8), an access log written to a file, keep-alive,
# sendfile.  ptc also does what nginx does not: MAC binding on the
# User-Agent and the SQLite fetch audit.  Target: ptc >= 0.8x nginx's
# requests per second.
#
# Installs nothing: without wrk or nginx it says so and exits 0.  Sends
# traffic to 127.0.0.1 only, bounded by BENCH_SECONDS.
set -u
PTC=${1:-${PTC:-build/ptc}}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=$(nproc 2>/dev/null || echo 2)

command -v wrk >/dev/null || { echo "bench/serve.sh: wrk is not installed (apt-get install wrk); skipped"; exit 0; }
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
[ -n "$NGINX" ] || { echo "bench/serve.sh: nginx is not installed (apt-get install nginx-light); skipped"; exit 0; }
[ -x "$PTC" ] || { echo "bench/serve.sh: no ptc binary at $PTC (run make first)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/serve.sh: sqlite3 is not installed; skipped"; exit 0; }
PTC=$(cd "$(dirname "$PTC")" && pwd)/$(basename "$PTC")

W=$(mktemp -d /tmp/ptc-bench-serve-XXXXXX)
chmod 755 "$W"                          # nginx's workers run as nobody
PTC_PID= NGINX_PID=
cleanup() {
  [ -n "$PTC_PID" ] && kill "$PTC_PID" 2>/dev/null && wait "$PTC_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

# ---- the same tree for both ----
R=$W/root BASE=$W/root/mnt/kd/phoneprov
mkdir -p "$R/etc" "$BASE/yealink" "$BASE/templates"
chmod -R a+rX "$W"
printf 'PHONEPROV_ALLOW="127.0.0.0/8 ::1"\n' >"$R/etc/rc.conf"
MAC=001565aaa937
{ echo '#!version:1.0.0.1'
  for i in $(seq 1 60); do printf 'account.1.setting_%02d = value-%02d-padding-to-2k\n' "$i" "$i"; done
} | head -c 2048 >"$BASE/yealink/$MAC.cfg"
echo "secret" >"$BASE/massdeployment.conf"
chmod a+r "$BASE/yealink/$MAC.cfg"
sqlite3 "$R/mnt/kd/asterisk-odbc.sqlite3" "CREATE TABLE phoneprov (id INTEGER PRIMARY KEY AUTOINCREMENT, ext TEXT,
  cid_name TEXT, cid_num TEXT, account TEXT, line INTEGER, mac_addr TEXT, template TEXT, model TEXT,
  vendor TEXT, sip_driver TEXT);
  INSERT INTO phoneprov (ext, mac_addr, model, vendor) VALUES ('201', '00:15:65:aa:a9:37', 'T46S', 'yealink');"
UA="Yealink SIP-T46S 66.86.0.15 00:15:65:aa:a9:37"

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo 0
}

wait_http() {   # URL: until it answers 200, at most 10 s
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" "$1" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- nginx ----
NPORT=$(free_port)
mkdir -p "$W/nginx/tmp"
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes $THREADS;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  access_log $W/nginx/access.log;
  client_body_temp_path $W/nginx/tmp;
  proxy_temp_path $W/nginx/tmp;
  fastcgi_temp_path $W/nginx/tmp;
  uwsgi_temp_path $W/nginx/tmp;
  scgi_temp_path $W/nginx/tmp;
  server {
    listen 127.0.0.1:$NPORT;
    location /phoneprov/ {
      alias $BASE/;
      allow 127.0.0.0/8;
      deny all;
      location ~ (^/phoneprov/templates/|/\.|\.conf\$) { return 404; }
    }
  }
}
EOF
"$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' 2>"$W/nginx/stderr" &
NGINX_PID=$!

# ---- ptc serve ----
"$PTC" serve --root "$R" --listen 127.0.0.1:0 --access-log "$W/ptc-access.log" \
  --threads "$THREADS" --max-per-ip 4096 --max-conns 4096 2>"$W/ptc.err" &
PTC_PID=$!
PPORT=
for _ in $(seq 1 100); do
  PPORT=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/ptc.err" 2>/dev/null | head -1 | sed 's/.*://')
  [ -n "$PPORT" ] && break
  sleep 0.1
done

NURL="http://127.0.0.1:$NPORT/phoneprov/yealink/$MAC.cfg"
PURL="http://127.0.0.1:$PPORT/phoneprov/yealink/$MAC.cfg"
wait_http "$NURL" || { echo "bench/serve.sh: nginx did not start:" >&2; cat "$W/nginx/stderr" "$W/nginx/error.log" >&2; exit 1; }
[ -n "$PPORT" ] && wait_http "$PURL" || { echo "bench/serve.sh: ptc serve did not start:" >&2; cat "$W/ptc.err" >&2; exit 1; }
# Same bytes from both, and both refuse the phone list.
cmp -s <(curl -s -A "$UA" "$NURL") <(curl -s -A "$UA" "$PURL") || { echo "bench/serve.sh: the two servers differ" >&2; exit 1; }
for u in "http://127.0.0.1:$NPORT" "http://127.0.0.1:$PPORT"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u/phoneprov/massdeployment.conf")" = 404 ] ||
    { echo "bench/serve.sh: $u serves the phone list" >&2; exit 1; }
done

run_wrk() {     # URL OUT
  wrk -t2 -c"$CONNS" -d2s -H "User-Agent: $UA" "$1" >/dev/null 2>&1     # warm-up
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "User-Agent: $UA" "$1" >"$2" 2>&1
}
field() {       # FILE: rps p50 p99 errors
  awk '/Requests\/sec:/ {rps=$2}
       /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       /Non-2xx/ {err+=$NF} /Socket errors/ {err+=1}
       END {printf "%s %s %s %d\n", rps, p50, p99, err}' "$1"
}

ROUNDS=${BENCH_ROUNDS:-3}
echo "bench/serve.sh: wrk -t2 -c$CONNS -d${SECS}s on loopback, $THREADS CPU(s), 2 KiB file, allowlist + access log on;"
echo "  $ROUNDS rounds, the two servers alternating (first one, then the other), medians; load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$W/rps-nginx"; : >"$W/rps-ptc"
for ((k = 1; k <= ROUNDS; k++)); do
  for who in $( ((k % 2)) && echo "nginx ptc" || echo "ptc nginx"); do
    if [ "$who" = nginx ]; then run_wrk "$NURL" "$W/wrk-nginx.txt"; else run_wrk "$PURL" "$W/wrk-ptc.txt"; fi
    field "$W/wrk-$who.txt" >"$W/wrk-$who.txt.f"
    read -r rps p50 p99 err <"$W/wrk-$who.txt.f"
    echo "$rps $p50 $p99 $err" >>"$W/rps-$who"
  done
  printf '  round %d: nginx %s, ptc serve %s requests/s\n' "$k" "$(tail -1 "$W/rps-nginx" | cut -d' ' -f1)" "$(tail -1 "$W/rps-ptc" | cut -d' ' -f1)"
done
med() { sort -n -k1,1 "$1" | awk '{l[NR]=$0} END {print l[int((NR+1)/2)]}'; }
read -r n_rps n_p50 n_p99 n_err < <(med "$W/rps-nginx")
read -r p_rps p_p50 p_p99 p_err < <(med "$W/rps-ptc")
kill -TERM "$PTC_PID"; wait "$PTC_PID" 2>/dev/null; PTC_PID=
rows=$(sqlite3 "$R/mnt/kd/phoneprov-audit.sqlite3" "SELECT count(*) FROM phoneprov_fetch" 2>/dev/null || echo "?")
lines=$(wc -l <"$W/ptc-access.log")

printf '\n%-12s %12s %10s %10s %8s\n' server "requests/s" "p50" "p99" errors
printf '%-12s %12s %10s %10s %8s\n' nginx "$n_rps" "$n_p50" "$n_p99" "$n_err"
printf '%-12s %12s %10s %10s %8s\n' "ptc serve" "$p_rps" "$p_p50" "$p_p99" "$p_err"
ratio=$(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')
echo
echo "ptc/nginx: ${ratio}x of the medians (issue 17's target: >= 1.0x); ptc logged $lines requests, audit holds $rows row(s) (last fetch per phone and file)"
awk -v r="$ratio" 'BEGIN { exit !(r != "?" && r + 0 >= 1.0) }' && echo "PASS  ptc serve at least as fast as nginx" || echo "MISS  ptc serve at least as fast as nginx"
exit 0
