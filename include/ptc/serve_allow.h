/* ptc_serve_allow: who may fetch from `ptc serve` (src/serve/serve_allow.c).
 * Ownership: ptc_serve_allow_parse returns a list the caller frees with
 * ptc_serve_allow_free (NULL accepted); addresses are borrowed. */
#ifndef PTC_SERVE_ALLOW_H
#define PTC_SERVE_ALLOW_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct ptc_serve_allow ptc_serve_allow;

/* Parses PHONEPROV_ALLOW: entries separated by blanks (or commas), each an
 * address (10.1.2.3, 2001:db8::1), a pattern where `*` matches any run of
 * characters of the address as text (10.1.2.*, 2001:db8:1:*), or CIDR
 * (10.10.50.0/24, 2001:db8::/48).  Empty text allows everybody.  Returns a
 * list the caller frees with ptc_serve_allow_free, or NULL with a reason in
 * why (size whylen) naming the bad entry. */
ptc_serve_allow *ptc_serve_allow_parse(const char *spec, char *why, size_t whylen);
void ptc_serve_allow_free(ptc_serve_allow *a);          /* NULL accepted */
/* 1 if spec names no entry (blanks and commas only). */
int  ptc_serve_allow_is_blank(const char *spec);
/* 1 if the list has no entries (everybody allowed). */
int  ptc_serve_allow_is_open(const ptc_serve_allow *a);
/* 1 if the address sa is allowed.  IPv4-mapped IPv6 addresses (a dual-stack
 * socket's view of an IPv4 client) are matched as IPv4. */
int  ptc_serve_allow_match(const ptc_serve_allow *a, const struct sockaddr *sa);
/* The address as text, IPv4-mapped shown as IPv4 (out: 46 bytes or more). */
void ptc_serve_addr_text(const struct sockaddr *sa, char *out, size_t n);
/* 1 if sa is a loopback address (127/8, ::1, ::ffff:127/104). */
int  ptc_serve_addr_is_loopback(const struct sockaddr *sa);

#endif
