/* The PHONEPROV_ALLOW allowlist: addresses, `*` patterns and CIDR.
 *
 * The original handed the list to lighttpd as a regular expression on the
 * client address as text, so `10.1.2.*` and `2001:db8:1:*` are patterns over
 * that text, and we keep that meaning: `*` matches any run of characters of
 * the address as inet_ntop writes it (lower case, IPv6 compressed).  Plain
 * addresses and CIDR are compared as bytes, so every spelling of an IPv6
 * address matches. */
#include "ptc/serve.h"
#include "ptc/buf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ALLOW_NET, ALLOW_GLOB };

typedef struct allow_entry {
    int kind;
    int family;                 /* AF_INET or AF_INET6 (ALLOW_NET) */
    unsigned char addr[16];
    unsigned prefix;            /* bits compared (ALLOW_NET) */
    char *pat;                  /* lower case (ALLOW_GLOB) */
} allow_entry;

struct ptc_serve_allow {
    allow_entry *e;
    size_t n;
};

/* The family and address bytes of sa; an IPv4-mapped IPv6 address is
 * returned as IPv4 so one entry covers both socket kinds.  0 for others. */
static int addr_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(out, a->s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(out, a->s6_addr, 16);
        return AF_INET6;
    }
    return 0;
}

void ptc_serve_addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    unsigned char b[16];
    int fam = addr_bytes(sa, b);
    if (!fam || !inet_ntop(fam, b, out, (socklen_t)n)) snprintf(out, n, "?");
}

int ptc_serve_addr_is_loopback(const struct sockaddr *sa)
{
    unsigned char b[16];
    int fam = addr_bytes(sa, b);
    if (fam == AF_INET) return b[0] == 127;
    if (fam == AF_INET6) return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)b);
    return 0;
}

/* `*` matches any run (also an empty one); everything else itself. */
static int glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') { star = p++; resume = s; continue; }
        if (*p == *s) { p++; s++; continue; }
        if (!star) return 0;
        p = star + 1;
        s = ++resume;
    }
    while (*p == '*') p++;
    return *p == '\0';
}

static int parse_entry(allow_entry *e, const char *tok, char *why, size_t whylen)
{
    memset(e, 0, sizeof *e);
    if (strchr(tok, '*')) {
        for (const char *p = tok; *p; p++) {
            if (!isxdigit((unsigned char)*p) && !strchr(".:*", *p)) {
                snprintf(why, whylen, "bad allowlist pattern '%s': only hex digits, '.', ':' and '*' may appear", tok);
                return -1;
            }
        }
        e->kind = ALLOW_GLOB;
        e->pat = ptc_xstrdup(tok);
        for (char *p = e->pat; *p; p++) *p = (char)tolower((unsigned char)*p);
        return 0;
    }
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(tok, '/');
    size_t hl = slash ? (size_t)(slash - tok) : strlen(tok);
    if (hl == 0 || hl >= sizeof host) goto bad;
    memcpy(host, tok, hl);
    host[hl] = '\0';
    e->kind = ALLOW_NET;
    if (inet_pton(AF_INET, host, e->addr) == 1) e->family = AF_INET;
    else if (inet_pton(AF_INET6, host, e->addr) == 1) e->family = AF_INET6;
    else goto bad;
    unsigned max = e->family == AF_INET ? 32 : 128;
    e->prefix = max;
    if (slash) {
        char *end;
        const char *num = slash + 1;
        if (!isdigit((unsigned char)*num)) goto bad;
        unsigned long v = strtoul(num, &end, 10);
        if (*end || v > max) goto bad;
        e->prefix = (unsigned)v;
    }
    /* An IPv4-mapped entry is an IPv4 entry: clients are compared that way. */
    if (e->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)e->addr)) {
        if (e->prefix < 96) goto bad;
        memmove(e->addr, e->addr + 12, 4);
        e->family = AF_INET;
        e->prefix -= 96;
    }
    return 0;
bad:
    snprintf(why, whylen, "bad allowlist entry '%s': want an address, a pattern "
             "with '*' (10.1.2.*) or CIDR (10.10.50.0/24, 2001:db8::/48)", tok);
    return -1;
}

ptc_serve_allow *ptc_serve_allow_parse(const char *spec, char *why, size_t whylen)
{
    ptc_serve_allow *a = ptc_xcalloc(1, sizeof *a);
    const char *s = spec ? spec : "";
    while (*s) {
        while (*s && (isspace((unsigned char)*s) || *s == ',')) s++;
        if (!*s) break;
        const char *t = s;
        while (*s && !isspace((unsigned char)*s) && *s != ',') s++;
        char *tok = ptc_xstrndup(t, (size_t)(s - t));
        a->e = ptc_xrealloc(a->e, (a->n + 1) * sizeof *a->e);
        int rc = parse_entry(&a->e[a->n], tok, why, whylen);
        free(tok);
        if (rc != 0) {
            ptc_serve_allow_free(a);
            return NULL;
        }
        a->n++;
    }
    return a;
}

void ptc_serve_allow_free(ptc_serve_allow *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->e[i].pat);
    free(a->e);
    free(a);
}

int ptc_serve_allow_is_open(const ptc_serve_allow *a)
{
    return a->n == 0;
}

static int net_match(const allow_entry *e, const unsigned char *b)
{
    unsigned full = e->prefix / 8, rest = e->prefix % 8;
    if (memcmp(e->addr, b, full) != 0) return 0;
    if (rest == 0) return 1;
    unsigned char mask = (unsigned char)(0xFFu << (8 - rest));
    return (e->addr[full] & mask) == (b[full] & mask);
}

int ptc_serve_allow_match(const ptc_serve_allow *a, const struct sockaddr *sa)
{
    if (a->n == 0) return 1;
    unsigned char b[16];
    int fam = addr_bytes(sa, b);
    if (!fam) return 0;
    char text[INET6_ADDRSTRLEN];
    text[0] = '\0';
    for (size_t i = 0; i < a->n; i++) {
        const allow_entry *e = &a->e[i];
        if (e->kind == ALLOW_NET) {
            if (e->family == fam && net_match(e, b)) return 1;
        } else {
            if (!text[0] && !inet_ntop(fam, b, text, sizeof text)) return 0;
            if (glob_match(e->pat, text)) return 1;
        }
    }
    return 0;
}

int ptc_serve_allow_is_blank(const char *spec)
{
    return spec[strspn(spec, " \t,")] == '\0';
}
