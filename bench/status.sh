#!/usr/bin/env bash
# bench/status.sh PTC [N]: `ptc status` over N phones (default 50,000), each
# with one provisioning file and one recorded fetch: the time (median of 3)
# and peak RSS.  Grouping the table's rows by MAC used to be quadratic
# (2.25 s at 50,000 phones on this project's 2-CPU machine); it is a hash map now.
set -u
PTC=$1
N=${2:-50000}
command -v sqlite3 >/dev/null && [ -x /usr/bin/time ] || { echo "bench/status.sh: sqlite3 or /usr/bin/time missing; skipped"; exit 0; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
R=$W/root
mkdir -p "$R/etc" "$R/mnt/kd/phoneprov/yealink"
echo 'PHONEPROV_BASE_DIR=/mnt/kd/phoneprov' >"$R/etc/rc.conf"
awk -v n="$N" 'BEGIN {
  print "CREATE TABLE phoneprov (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ext TEXT DEFAULT \x27\x27,"
  print " cid_name TEXT DEFAULT \x27\x27, cid_num TEXT DEFAULT \x27\x27, account TEXT DEFAULT \x27\x27, line INTEGER DEFAULT 1,"
  print " mac_addr TEXT DEFAULT \x27\x27, template TEXT DEFAULT \x27\x27, model TEXT DEFAULT \x27\x27, vendor TEXT DEFAULT \x27\x27,"
  print " sip_driver TEXT DEFAULT \x27\x27);"
  print "BEGIN;"
  for (i = 0; i < n; i++)
    printf "INSERT INTO phoneprov (ext, mac_addr, model, vendor) VALUES (\x27%d\x27, \x2700:15:65:%02x:%02x:%02x\x27, \x27T46S\x27, \x27yealink\x27);\n",
           10000 + i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
  print "COMMIT;" }' | sqlite3 "$R/mnt/kd/asterisk-odbc.sqlite3"
"$PTC" serve --root "$R" --listen 127.0.0.1:0 --audit-db "$R/mnt/kd/phoneprov-audit.sqlite3" --access-log off \
  --allow 127.0.0.1 2>/dev/null & pid=$!
sleep 0.5; kill -TERM $pid; wait $pid 2>/dev/null     # creates the audit schema
awk -v n="$N" 'BEGIN { print "BEGIN;"
  for (i = 0; i < n; i++)
    printf "INSERT INTO phoneprov_fetch VALUES (\x2700156 5%02x%02x%02x\x27, \x27yealink/001565%02x%02x%02x.cfg\x27, 1700000000, \x2710.0.0.1\x27, \x27GET\x27, 200, 10, \x27Yealink SIP-T46S 66.86.0.15\x27, \x2766.86.0.15\x27, 9000000000000000000);\n",
           int(i / 65536) % 256, int(i / 256) % 256, i % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256
  print "COMMIT;" }' | sed 's/00156 5/001565/' | sqlite3 "$R/mnt/kd/phoneprov-audit.sqlite3"
(cd "$R/mnt/kd/phoneprov/yealink" && awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "001565%02x%02x%02x.cfg\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' | xargs touch)
times=()
for _ in 1 2 3; do
  /usr/bin/time -o "$W/time" -f '%e %M' "$PTC" status --root "$R" >"$W/out" 2>/dev/null
  times+=("$(tail -1 "$W/time")")
done
med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "bench/status.sh: ptc status, $N phones, one file and one fetch each: ${med%% *} s (median of 3), peak RSS ${med##* } KiB; $(tail -1 "$W/out")"
