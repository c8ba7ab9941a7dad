/* ptc_listen: a listening TCP socket from "ADDR:PORT", "[V6]:PORT",
 * "*:PORT" (every address, IPv6 and IPv4) or "localhost:PORT"; port 0
 * takes any free port.
 *
 * Ownership: the socket is the caller's to close (or hand to a server that
 * closes it).
 */
#ifndef PTC_LISTEN_H
#define PTC_LISTEN_H

#include <stddef.h>
#include <netinet/in.h>

typedef struct ptc_listen {
    int fd, port;               /* port: the one bound */
    char text[INET6_ADDRSTRLEN + 16];   /* as bound: "127.0.0.1:8443" */
} ptc_listen;

/* 0, or -1 with a reason in why. */
int ptc_listen_open(const char *spec, ptc_listen *l, char *why, size_t whylen);
/* 1 when the socket is bound to a loopback address only. */
int ptc_listen_is_loopback(const ptc_listen *l);

#endif
