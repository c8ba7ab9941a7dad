#!/usr/bin/env bash
# make demo: runs the bundled example (templates/ + examples/massdeployment.conf)
# into ./demo, a stand-in for an AstLinux box's /mnt/kd, and lists what it made.
set -eu
PTC=${1:-build/ptc}
cd "$(dirname "$0")/.."
root=$PWD/demo
rm -rf "$root"
mkdir -p "$root/etc" "$root/mnt/kd/phoneprov/templates"
cat >"$root/etc/rc.conf" <<'RC'
INTIF="eth1"
INTIP="192.168.101.1"
PHONEPROV_GW_IF="INTIF"
RC
cp templates/*.conf "$root/mnt/kd/phoneprov/templates/"
cp examples/massdeployment.conf "$root/massdeployment.conf"
"$PTC" run --root "$root" --cache-dir "$root/cache" "$root/massdeployment.conf"
echo
echo "Generated under $root/mnt/kd:"
(cd "$root/mnt/kd" && find . -path ./phoneprov/templates -prune -o -type f -print | sort)
echo
echo "The phoneprov table ($root/mnt/kd/asterisk-odbc.sqlite3):"
sqlite3 -header -column "$root/mnt/kd/asterisk-odbc.sqlite3" \
  'SELECT id, ext, cid_name, account, line, mac_addr, template FROM phoneprov ORDER BY id'
