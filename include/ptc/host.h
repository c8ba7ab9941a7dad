/* ptc_host: what ptc asks of the machine it runs on: the SIP server
 * address the phones are given (-i, PHONEPROV_GW_IF, PHONEPROV_GW_IP), the
 * interfaces to choose from, and Asterisk's reload after a generation.
 *
 * Ownership: returned strings and ptc_host_if members are the caller's
 * (free, ptc_host_interfaces_free); the configuration is borrowed.
 */
#ifndef PTC_HOST_H
#define PTC_HOST_H

#include <stddef.h>
#include "ptc/cfg.h"
#include "ptc/diag.h"

/* The address for @SIP_SERVER_IPV4@: PHONEPROV_GW_IP, else interface
 * if_name (NULL: PHONEPROV_GW_IF, default INTIF): INTIF..INT4IF take
 * INTIP..INT4IP from rc.conf, EXTIF and device names their IPv4 address.
 * NULL after reporting. */
char *ptc_host_sip_ipv4(const ptc_cfg *cfg, const char *if_name, ptc_diag *diag);
/* The first IPv4 address of device ifname, or NULL. */
char *ptc_host_ipv4_of(const char *ifname);

typedef struct ptc_host_if {
    char *name;                 /* what -i takes: INTIF, EXTIF or a device */
    char *device, *address;     /* "" when unknown */
} ptc_host_if;

/* Up to max interfaces into out; the count. */
size_t ptc_host_interfaces(const ptc_cfg *cfg, ptc_host_if *out, size_t max);
void   ptc_host_interfaces_free(ptc_host_if *v, size_t n);

/* Runs argv (PATH searched), standard output to /dev/null when quiet.
 * The exit status, or -1. */
int  ptc_host_spawn(char *const argv[], int quiet);
/* /mnt/kd/phoneprov-reload.script when executable, else `asterisk -rx
 * "dialplan reload"` and "sip reload"; a failure is a warning. */
void ptc_host_reload_asterisk(const ptc_cfg *cfg, ptc_diag *diag);

#endif
