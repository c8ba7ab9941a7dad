/* ptc_mac: the one MAC address grammar, for phone lists, the phone table,
 * User-Agents and command-line targets.
 *
 *   aabbccddeeff          12 hex digits
 *   aa:bb:cc:dd:ee:ff     six pairs joined by one separator, ':' or '-'
 *   aa-bb-cc-dd-ee-ff
 *   aabb.ccdd.eeff        three quads joined by '.' (Cisco's spelling;
 *                         only with PTC_MAC_DOTTED)
 *
 * Either case.  The phone list takes the first three forms only, as the
 * original tool does; targets typed by an administrator take them all.
 * Ownership: pure functions, nothing to own or free.
 */
#ifndef PTC_MAC_H
#define PTC_MAC_H

#include <stddef.h>
#include <stdint.h>

enum { PTC_MAC_LIST = 0, PTC_MAC_DOTTED = 1 };

/* 0 when the n bytes at s are a MAC in one of the forms (forms: the list's,
 * or PTC_MAC_DOTTED too); hex gets its 12 digits, case kept, and a NUL.
 * -1 otherwise (hex undefined). */
int ptc_mac_parse(const char *s, size_t n, int forms, char hex[13]);

/* A NUL-terminated MAC in any form, as 12 lower-case digits: 1, else 0. */
int ptc_mac_norm(const char *s, char mac[13]);

/* The 48-bit value of 12 hex digits (either case) the caller checked. */
uint64_t ptc_mac_value(const char *hex12);

/* The first MAC in free text such as a User-Agent, as 12 lower-case
 * digits: six pairs, or twelve digits that are a word of their own (so a
 * serial number or a hash is not taken for a MAC).  1, else 0. */
int ptc_mac_find(const char *text, char mac[13]);

#endif
