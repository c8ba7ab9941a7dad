#!/usr/bin/env bash
# ptc dhcp: the example list through the stock templates, in each format,
# against golden files and the real daemons' own checkers (Debian's
# dnsmasq-base, isc-dhcp-server, kea-dhcp4-server: installed here when
# missing and we are root): `dnsmasq --test -C`, `dhcpd -t -cf`,
# `kea-dhcp4 -t`.  PTC_UPDATE_GOLDEN=1 rewrites the golden files.
. "$(dirname "$0")/../lib.sh"

G=$TESTS_DIR/golden/dhcp
r=$(mkroot dhcp)
cp "$REPO_DIR"/templates/*.conf "$r/mnt/kd/phoneprov/templates/"
list=$REPO_DIR/examples/massdeployment.conf
URL=https://10.0.0.1:8443/phoneprov/

missing=()
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
[ -x /usr/sbin/dhcpd ] || missing+=(isc-dhcp-server)
[ -x /usr/sbin/kea-dhcp4 ] || missing+=(kea-dhcp4-server)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "dhcp: installing ${missing[*]} for their config checkers"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }
fi
export PATH=$PATH:/usr/sbin

for fmt in dnsmasq isc kea; do
  ext=conf; [ $fmt = kea ] && ext=json
  "$PTC" dhcp --root "$r" --format $fmt --url "$URL" "$list" >"$T_WORK/out.$ext.$fmt" 2>"$T_WORK/err"
  expect_eq "$fmt: exit status" "$?" 0
  [ -n "${PTC_UPDATE_GOLDEN:-}" ] && cp "$T_WORK/out.$ext.$fmt" "$G/$fmt.$ext"
  if cmp -s "$G/$fmt.$ext" "$T_WORK/out.$ext.$fmt"; then ok; else
    fail "$fmt: differs from tests/golden/dhcp/$fmt.$ext"; diff "$G/$fmt.$ext" "$T_WORK/out.$ext.$fmt" | head >&2; fi
done
check "one class per vendor directory of the list (cisco-spa5xx and cisco-mpp share one)" test "$(grep -c '^dhcp-option=tag:ptc-[a-z-]*,option:tftp-server' "$T_WORK/out.conf.dnsmasq")" -eq 6
check "the listed OUIs, each once" test "$(grep -c '^dhcp-mac=set:ptc-yealink,' "$T_WORK/out.conf.dnsmasq")" -eq 2
check "Cisco gets option 150" grep -qx 'dhcp-option=tag:ptc-cisco,150,10.0.0.1' "$T_WORK/out.conf.dnsmasq"
"$PTC" dhcp --root "$r" --all-ouis --url "$URL" "$list" >"$T_WORK/all.conf"
check "--all-ouis: the vendor's other OUIs" grep -qx 'dhcp-mac=set:ptc-yealink,24:9a:d8:\*:\*:\*' "$T_WORK/all.conf"
"$PTC" dhcp --root "$r" --url http://pbx/phoneprov "$list" >"$T_WORK/name.conf"
if grep -q ',150,' "$T_WORK/name.conf"; then fail "option 150 without an address"; else ok; fi
"$PTC" dhcp --root "$r" --url http://pbx/phoneprov --server-ip 10.1.1.1 "$list" | grep -q ',150,10.1.1.1$'
expect_eq "--server-ip for option 150" "$?" 0
"$PTC" dhcp --root "$r" --format bind "$list" >/dev/null 2>&1; expect_eq "bad format" "$?" 64
"$PTC" dhcp --root "$r" >/dev/null 2>&1; expect_eq "no list" "$?" 64
printf 'nosuch 00:11:22:33:44:55 201 pw\n' >"$T_WORK/bad.conf"
"$PTC" dhcp --root "$r" "$T_WORK/bad.conf" >/dev/null 2>"$T_WORK/err"; expect_eq "missing template" "$?" 1
check "missing template named" grep -q 'template "nosuch" not found' "$T_WORK/err"

# ---- the real checkers ---------------------------------------------------------
if command -v dnsmasq >/dev/null; then
  out=$(dnsmasq --test -C "$T_WORK/out.conf.dnsmasq" 2>&1); expect_eq "dnsmasq --test: $out" "$?" 0
  out=$(dnsmasq --test -C "$T_WORK/all.conf" 2>&1); expect_eq "dnsmasq --test (--all-ouis): $out" "$?" 0
else echo "dhcp: dnsmasq missing: not checked by dnsmasq"; fi
if command -v dhcpd >/dev/null; then
  out=$(dhcpd -t -cf "$T_WORK/out.conf.isc" 2>&1); expect_eq "dhcpd -t: $(tail -3 <<<"$out")" "$?" 0
  printf 'option domain-name "x";\ninclude "%s";\n' "$T_WORK/out.conf.isc" >"$T_WORK/dhcpd.conf"
  out=$(dhcpd -t -cf "$T_WORK/dhcpd.conf" 2>&1); expect_eq "dhcpd -t, included: $(tail -3 <<<"$out")" "$?" 0
else echo "dhcp: dhcpd missing: not checked by dhcpd"; fi
if command -v kea-dhcp4 >/dev/null; then
  printf '{ "Dhcp4": { "client-classes": <?include "%s"?>, "subnet4": [] } }\n' "$T_WORK/out.json.kea" >"$T_WORK/kea.conf"
  out=$(kea-dhcp4 -t "$T_WORK/kea.conf" 2>&1); expect_eq "kea-dhcp4 -t: $(tail -3 <<<"$out")" "$?" 0
else echo "dhcp: kea-dhcp4 missing: not checked by Kea"; fi
finish
