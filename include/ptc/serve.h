/* ptc_serve: the provisioning server (`ptc serve`) and its fetch audit
 * (`ptc status`).  docs/serve.md is the user's side of this file.
 *
 *   request --allowlist (serve_allow.c)--> 403 for addresses not allowed
 *           --path rules (serve_path.c)--> 400 for malformed, 404 for what is
 *                                          never served (templates/, dot files,
 *                                          phone lists, the bytecode cache,
 *                                          anything leading out of the base)
 *           --open beneath the base------> 404 for symlinks that lead out
 *           --MAC binding (serve_ua.c)---> 403 when the User-Agent names
 *                                          another phone than the file
 *           --conditional----------------> 304 (ETag, If-Modified-Since)
 *           --file-----------------------> 200, sent with sendfile
 *   every request -> the access log (serve_log.c), buffered, one line each;
 *   fetches of known phones -> SQLite phoneprov_fetch (serve_audit.c),
 *   queued in memory and written in one transaction a second.
 *
 * Threads: libmicrohttpd's epoll thread pool answers requests; one
 * background thread flushes the log and the audit and notices a changed
 * phone table.  The configuration a request sees (allowlist, phones, base
 * directory) is an immutable snapshot swapped under a rwlock on reload.
 *
 * Ownership: ptc_serve_start returns a server the caller stops and frees
 * with ptc_serve_stop (NULL accepted); options are copied.
 */
#ifndef PTC_SERVE_H
#define PTC_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "ptc/buf.h"
#include "ptc/diag.h"
#include "ptc/audit.h"
#include "ptc/mac.h"
#include "ptc/serve_allow.h"
#include "ptc/serve_guard.h"
#include "ptc/serve_log.h"
#include "ptc/serve_path.h"
#include "ptc/serve_ua.h"

/* ---- the server ---------------------------------------------------------- */

enum { PTC_SERVE_MAC_OFF, PTC_SERVE_MAC_WARN, PTC_SERVE_MAC_ENFORCE, PTC_SERVE_MAC_STRICT };
#define PTC_SERVE_MISS_OFF 0xffffffffu

/* What `ptc serve` was asked for.  Strings and arrays are borrowed by
 * ptc_serve_start, which copies what it keeps. */
typedef struct ptc_serve_opts {
    const char *const *listen;      /* "ADDR:PORT", "[V6]:PORT", "*:PORT"; port 0 = any */
    size_t nlisten;                 /* 0 and no tls_listen: "*:8080" */
    const char *const *tls_listen;
    size_t ntls_listen;
    const char *cert_file, *key_file;  /* PEM, needed with tls_listen */
    const char *tls_priorities;     /* NULL: gnutls "NORMAL" */
    const char *root;               /* --root, NULL for none */
    const char *rc_file;            /* NULL: /etc/rc.conf under root */
    const char *const *allow;       /* --allow; none: PHONEPROV_ALLOW */
    size_t nallow;
    int mac_check;                  /* PTC_SERVE_MAC_* */
    const char *access_log;         /* NULL or "-": stderr; "off": none */
    const char *audit_db;           /* NULL: /mnt/kd/phoneprov-audit.sqlite3 under root; "off" */
    const char *phone_db;           /* NULL: /mnt/kd/asterisk-odbc.sqlite3 under root */
    unsigned threads;               /* 0: one per CPU, at least 2 */
    unsigned max_conns;             /* per listener; 0: 1000 */
    unsigned max_per_ip;            /* 0: 64 */
    unsigned timeout;               /* idle seconds, and the deadline for a
                                       request head (TLS handshake included); 0: 15 */
    unsigned miss_budget;           /* 404s an address may get per minute (a
                                       burst); 0: 30; PTC_SERVE_MISS_OFF: no limit */
    const char *const *server_names;    /* --server-name: Host values served; none: any */
    size_t nserver_names;
    unsigned flush_ms;              /* log/audit flush period; 0: 1000 */
} ptc_serve_opts;

typedef struct ptc_serve ptc_serve;

/* Loads the configuration, finishes a run interrupted after its commit
 * point (ptc_commit_finish), opens the log and the audit database, binds
 * every listener and starts answering.  0 and *out (free with
 * ptc_serve_stop), or -1 after reporting why to diag. */
int  ptc_serve_start(const ptc_serve_opts *o, ptc_serve **out, ptc_diag *diag);
/* The local port of listener i (plain ones first, then TLS), or -1. */
int  ptc_serve_port(const ptc_serve *s, size_t i);
/* What SIGHUP does: reads rc.conf, the allowlist and the phone table again
 * and reopens the access log.  On failure the old configuration stays and
 * the reason is logged; returns 0 or -1. */
int  ptc_serve_reload(ptc_serve *s);
/* What the guard counted so far (refused connections, misses...). */
void ptc_serve_stats(ptc_serve *s, ptc_serve_guard_stats *out);
/* Fetches waiting in memory for the audit database. */
size_t ptc_serve_audit_waiting(ptc_serve *s);
/* Writes the buffered access log and the queued audit now (tests, stop). */
void ptc_serve_flush(ptc_serve *s);
/* "TIME ptc serve: SEV: message" on stderr, one write that never blocks
 * (a line is dropped when stderr has no room): for the server's threads,
 * libmicrohttpd's and the command's. */
void ptc_serve_say(const char *sev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops accepting, finishes, flushes and frees.  NULL accepted. */
void ptc_serve_stop(ptc_serve *s);

#endif
