/* Listening sockets for `ptc serve` and `ptc web` (include/ptc/listen.h). */
#include "ptc/listen.h"
#include "ptc/serve_allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_listen(const char *spec, char *host, unsigned long *port)
{
    const size_t hostlen = INET6_ADDRSTRLEN + 2;
    const char *port_s;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= hostlen) return -1;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        port_s = rb + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon) {
            strcpy(host, "*");
            port_s = spec;
        } else {
            if (memchr(spec, ':', (size_t)(colon - spec)) || (size_t)(colon - spec) >= hostlen) return -1;
            memcpy(host, spec, (size_t)(colon - spec));
            host[colon - spec] = '\0';
            port_s = colon + 1;
        }
    }
    char *end;
    *port = strtoul(port_s, &end, 10);
    return !*port_s || *end || *port > 65535 ? -1 : 0;
}

int ptc_listen_open(const char *spec, ptc_listen *l, char *why, size_t whylen)
{
    char host[INET6_ADDRSTRLEN + 2];
    unsigned long port;
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (parse_listen(spec, host, &port) != 0) goto bad;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    int any = host[0] == '\0' || strcmp(host, "*") == 0;
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (any) {
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
    } else {
        goto bad;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int fam = ss.ss_family;
        socklen_t sl = fam == AF_INET ? sizeof *v4 : sizeof *v6;
        if (fam == AF_INET) v4->sin_port = htons((uint16_t)port);
        else v6->sin6_port = htons((uint16_t)port);
        l->fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (l->fd < 0 && any && fam == AF_INET6 && errno == EAFNOSUPPORT) {
            /* No IPv6 on this host: "any" means IPv4's any. */
            memset(&ss, 0, sizeof ss);
            v4->sin_family = AF_INET;
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
            continue;
        }
        if (l->fd < 0) break;
        int one = 1, v6only = any ? 0 : 1;
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fam == AF_INET6) setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
        if (bind(l->fd, (struct sockaddr *)&ss, sl) != 0 || listen(l->fd, 1024) != 0) {
            int e = errno;
            close(l->fd);
            l->fd = -1;
            errno = e;
        }
        break;
    }
    if (l->fd < 0) {
        snprintf(why, whylen, "cannot listen on %s: %s", spec, strerror(errno));
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    getsockname(l->fd, (struct sockaddr *)&bound, &bl);
    l->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    char at[INET6_ADDRSTRLEN];
    if (any) snprintf(at, sizeof at, "*");
    else inet_ntop(ss.ss_family, ss.ss_family == AF_INET ? (void *)&v4->sin_addr : (void *)&v6->sin6_addr,
                   at, sizeof at);
    snprintf(l->text, sizeof l->text, ss.ss_family == AF_INET6 && !any ? "[%s]:%d" : "%s:%d", at, l->port);
    return 0;
bad:
    snprintf(why, whylen, "bad listen address '%s': want ADDR:PORT, [IPV6]:PORT or *:PORT", spec);
    return -1;
}

int ptc_listen_is_loopback(const ptc_listen *l)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) != 0) return 0;
    return ptc_serve_addr_is_loopback((struct sockaddr *)&ss);
}
