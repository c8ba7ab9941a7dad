#!/usr/bin/env bash
# ptc run, issue 3: configuration from rc.conf and the environment
# (PHONEPROV_BASE_DIR, PHONEPROV_GW_IF, PHONEPROV_GW_IP, INTIF..INT4IF,
# EXTIF, INTIP..INT4IP), -i/--if-name, --rc.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# Clean environment: none of these may leak in from the caller.
unset PHONEPROV_BASE_DIR PHONEPROV_GW_IF PHONEPROV_GW_IP INTIF INT2IF INT3IF INT4IF EXTIF INTIP INT2IP INT3IP INT4IP

r=$(mkroot config)
tpl='[general]
vendor=ip
prov_file=server.cfg
[phoneprov]
server=@SIP_SERVER_IPV4@'
echo "$tpl" >"$r/mnt/kd/phoneprov/templates/ip.conf"
list=$T_WORK/ip.conf
echo 'ip 00:00:00:00:00:01 100 pw' >"$list"
out=$r/mnt/kd/phoneprov/ip/server.cfg
rc=$r/etc/rc.conf
cat >"$rc" <<'C'
# AstLinux rc.conf
INTIF="eth1"
INTIP="10.0.0.1"
export INT2IF="eth2"
INT2IP='10.0.2.1'
INT3IP=10.0.3.1   # a comment
INT4IP="10.0.4.1"
EXTIF="lo"
PHONEPROV_GW_IF="INTIF"
C

# server IP ARGS...: runs and prints the address written into the file.
server() { rm -f "$out"; ptc_run "$r" -q -f "$@" "$list" && cat "$out"; }

expect_eq "default: PHONEPROV_GW_IF=INTIF -> INTIP" "$(server)" "server=10.0.0.1"
expect_eq "-i INT2IF -> INT2IP (export, single quotes)" "$(server -i INT2IF)" "server=10.0.2.1"
expect_eq "-i INT3IF -> INT3IP (bare, trailing comment)" "$(server -i INT3IF)" "server=10.0.3.1"
expect_eq "--if-name INT4IF -> INT4IP" "$(server --if-name INT4IF)" "server=10.0.4.1"
expect_eq "-i EXTIF -> the address of \$EXTIF (lo)" "$(server -i EXTIF)" "server=127.0.0.1"
expect_eq "-i lo: a real interface, getifaddrs" "$(server -i lo)" "server=127.0.0.1"
expect_eq "env PHONEPROV_GW_IF wins over rc.conf" "$(PHONEPROV_GW_IF=INT3IF server)" "server=10.0.3.1"
expect_eq "env INTIP wins over rc.conf" "$(INTIP=192.0.2.7 server)" "server=192.0.2.7"
expect_eq "env PHONEPROV_GW_IP overrides the interface" "$(PHONEPROV_GW_IP=198.51.100.5 server -i lo)" "server=198.51.100.5"
echo 'PHONEPROV_GW_IP="203.0.113.9"' >>"$rc"
expect_eq "rc.conf PHONEPROV_GW_IP overrides the interface" "$(server -i INT2IF)" "server=203.0.113.9"
sed -i '$d' "$rc"

# interface errors: status 1 with what to do, nothing written
rm -f "$out"
rcap "$r" -i nosuch0 "$list"
expect_eq "-i nosuch0: status" "$RC" 1
expect_eq "-i nosuch0: message" "$ERR" "ptc: error: invalid interface nosuch0: nosuch0 has no IPv4 address; name another interface with -i, or set PHONEPROV_GW_IP [interface]
"
check "-i nosuch0: nothing written" test ! -e "$out"
sed -i '/^INT4IP=/d; /^EXTIF=/d' "$rc"
rcap "$r" -i INT4IF "$list"
expect_eq "-i INT4IF without INT4IP: status" "$RC" 1
expect_eq "-i INT4IF without INT4IP: message" "$ERR" "ptc: error: invalid interface INT4IF: INT4IP is not set in /etc/rc.conf; set it, or name another interface with -i [interface]
"
rcap "$r" -i EXTIF "$list"
expect_eq "-i EXTIF unset: status" "$RC" 1
expect_eq "-i EXTIF unset: message" "$ERR" "ptc: error: invalid interface EXTIF: (unset) has no IPv4 address; name another interface with -i, or set PHONEPROV_GW_IP [interface]
"

# --rc FILE: used as given (not under --root)
alt=$T_WORK/alt-rc.conf
printf 'INTIF="eth9"\nINTIP="10.9.9.9"\n' >"$alt"
expect_eq "--rc FILE" "$(server --rc "$alt")" "server=10.9.9.9"
rcap "$r" --rc "$T_WORK/missing-rc.conf" "$list"
expect_eq "--rc missing: status" "$RC" 1
expect_eq "--rc missing: message" "$ERR" "ptc: error: cannot read $T_WORK/missing-rc.conf: No such file or directory [config]
"
# no rc.conf at all: INTIF is the default interface, INTIP is needed
r0=$(mkroot norc)
rm "$r0/etc/rc.conf"
echo "$tpl" >"$r0/mnt/kd/phoneprov/templates/ip.conf"
rcap "$r0" "$list"
expect_eq "no rc.conf: status" "$RC" 1
expect_eq "no rc.conf: message" "$ERR" "ptc: error: invalid interface INTIF: INTIP is not set in /etc/rc.conf; set it, or name another interface with -i [interface]
"
rm -f "$r0/mnt/kd/phoneprov/ip/server.cfg"
expect_eq "no rc.conf, -i lo" "$(ptc_run "$r0" -q -i lo "$list" && cat "$r0/mnt/kd/phoneprov/ip/server.cfg")" "server=127.0.0.1"

# ---- PHONEPROV_BASE_DIR: templates in BASE/templates, prov_path BASE/vendor -----------
r=$(mkroot basedir)
mkdir -p "$r/srv/pp/templates" "$r/srv/env/templates"
echo "$tpl" | sed 's/^prov_file=.*/prov_file=@MAC@.cfg/' >"$r/srv/pp/templates/ip.conf"
printf '[general]\n[phoneprov]\nenv @VENDOR@\n' >"$r/srv/env/templates/ip.conf"
echo 'PHONEPROV_BASE_DIR="/srv/pp"' >>"$r/etc/rc.conf"
ptc_run "$r" -q "$list"
check "BASE_DIR from rc.conf: status" test $? -eq 0
expect_file "BASE_DIR from rc.conf: BASE/vendor/@MAC@.cfg" "$r/srv/pp/ip/000000000001.cfg" $'server=10.0.0.1\n'
check "BASE_DIR from rc.conf: nothing under /mnt/kd/phoneprov" test ! -e "$r/mnt/kd/phoneprov/ip"
PHONEPROV_BASE_DIR=/srv/env ptc_run "$r" -q "$list"
expect_file "BASE_DIR from the environment wins" "$r/srv/env/ip/000000000001.cfg" $'env ip\n'
printf 'nosuch 00:00:00:00:00:02 101 pw\n' >"$T_WORK/none.conf"
rcap "$r" "$T_WORK/none.conf"
check "BASE_DIR: a template is looked up in BASE/templates" grep -qF "$r/srv/pp/templates/nosuch.conf: No such file or directory" "$T_WORK/.err"

finish
