#!/usr/bin/env bash
# bench/web.sh PTC [N]: the web interface's calls on a list of N phones
# (default 20,000), each timed by curl (median of 5) against a real ptc web
# on 127.0.0.1: the whole list (GET /api/phones), one phone added (the list
# linted before and after, then written), the status page's call, and the
# page itself.  The target (issue 13) is an answer within a frame or two
# (16-33 ms) for what the browser asks on every page.
set -u
PTC=$1
N=${2:-20000}
command -v curl >/dev/null || { echo "bench/web.sh: curl missing; skipped"; exit 0; }
W=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$W"' EXIT
R=$W/root
mkdir -p "$R/etc" "$R/mnt/kd/phoneprov/templates"
printf 'INTIF="eth1"\nINTIP="10.0.0.1"\n' >"$R/etc/rc.conf"
cp "$(dirname "$0")"/../templates/yealink-t4x.conf "$R/mnt/kd/phoneprov/templates/"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
  printf "yealink-t4x 02:00:00:%02x:%02x:%02x %d/Desk_%d Passw0rd%06d\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 100000 + i, i, i }' \
  >"$R/mnt/kd/massdeployment.conf"
echo 'bench-passw0rd' | "$PTC" passwd --root "$R" bench
"$PTC" web --root "$R" --cache-dir "$W/cache" --listen 127.0.0.1:0 2>"$W/err" & pid=$!
port=
for _ in $(seq 1 100); do
  port=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/err" | head -1 | sed 's/.*://'); [ -n "$port" ] && break; sleep 0.1
done
B=http://127.0.0.1:$port
csrf=$(curl -s -c "$W/jar" -d '{"user":"bench","password":"bench-passw0rd"}' "$B/api/login" | sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/')
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] * 1000 }'; }
etag() { curl -s -b "$W/jar" -D - -o /dev/null "$B/api/phones" | tr -d '\r' | sed -n 's/^ETag: //p'; }
t() { for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -b "$W/jar" "$@"; done | median; }
echo "web ($N phones, median of 5, ms):"
echo "  GET /api/phones            $(t "$B/api/phones")   ($(curl -s -b "$W/jar" "$B/api/phones" | wc -c) bytes)"
echo "  GET /api/status            $(t "$B/api/status")"
echo "  GET / (the page, gzip)     $(t -H 'Accept-Encoding: gzip' "$B/")"
i=0
add() {
  i=$((i + 1))
  curl -s -o /dev/null -w '%{time_total}\n' -b "$W/jar" -H "X-CSRF-Token: $csrf" -H "If-Match: $(etag)" \
    -d "{\"template\":\"yealink-t4x\",\"mac\":\"0a:00:00:00:00:0$i\",\"lines\":[{\"ext\":\"9$i\"}]}" "$B/api/phones"
}
echo "  POST /api/phones (add one) $(for _ in 1 2 3 4 5; do add; done | median)"
