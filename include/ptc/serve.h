/* ptc_serve: the provisioning server (`ptc serve`) and its fetch audit
 * (`ptc status`).  docs/serve.md is the user's side of this file.
 *
 *   request --allowlist (serve_allow.c)--> 403 for addresses not allowed
 *           --path rules (serve.c)-------> 400 for malformed, 404 for what is
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
 */
#ifndef PTC_SERVE_H
#define PTC_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "ptc/buf.h"
#include "ptc/diag.h"

/* ---- allowlist (src/serve_allow.c) --------------------------------------- */

typedef struct ptc_serve_allow ptc_serve_allow;

/* Parses PHONEPROV_ALLOW: entries separated by blanks (or commas), each an
 * address (10.1.2.3, 2001:db8::1), a pattern where `*` matches any run of
 * characters of the address as text (10.1.2.*, 2001:db8:1:*), or CIDR
 * (10.10.50.0/24, 2001:db8::/48).  Empty text allows everybody.  Returns a
 * list the caller frees with ptc_serve_allow_free, or NULL with a reason in
 * why (size whylen) naming the bad entry. */
ptc_serve_allow *ptc_serve_allow_parse(const char *spec, char *why, size_t whylen);
void ptc_serve_allow_free(ptc_serve_allow *a);          /* NULL accepted */
/* 1 if the list has no entries (everybody allowed). */
int  ptc_serve_allow_is_open(const ptc_serve_allow *a);
/* 1 if the address sa is allowed.  IPv4-mapped IPv6 addresses (a dual-stack
 * socket's view of an IPv4 client) are matched as IPv4. */
int  ptc_serve_allow_match(const ptc_serve_allow *a, const struct sockaddr *sa);
/* The address as text, IPv4-mapped shown as IPv4 (out: 46 bytes or more). */
void ptc_serve_addr_text(const struct sockaddr *sa, char *out, size_t n);
/* 1 if sa is a loopback address (127/8, ::1, ::ffff:127/104). */
int  ptc_serve_addr_is_loopback(const struct sockaddr *sa);

/* ---- User-Agent and MAC helpers (src/serve_ua.c) ------------------------- */

/* The first MAC address in a User-Agent: 00:15:65:4a:a9:37, 00-08-5D-23-74-29
 * or 12 hex digits standing alone (DevId 000b828aa872, (00562b043615)).
 * Writes 12 lower-case hex digits and a NUL to mac; returns 1, or 0 when the
 * text carries none.  ua NULL gives 0. */
int ptc_serve_ua_mac(const char *ua, char mac[13]);
/* The firmware version in a User-Agent: the first dotted number with at
 * least three parts (66.86.0.15, 1.0.9.135, 11.3.7).  1 and the text in out,
 * or 0 (out empty). */
int ptc_serve_ua_firmware(const char *ua, char *out, size_t n);
/* A MAC as the phone table writes it (00:0b:82:11:22:33, 000B82112233,
 * 00-0b-82-...) to 12 lower-case hex digits.  1, or 0 if s is not a MAC. */
int ptc_serve_mac_norm(const char *s, char mac[13]);
/* 48-bit value of 12 hex digits (either case); the caller checked them. */
uint64_t ptc_serve_mac_value(const char *hex12);

/* ---- the guard: head deadlines, miss budget (src/serve_guard.c) ---------- */

typedef struct ptc_serve_guard ptc_serve_guard;

/* What the guard counted since the server started. */
typedef struct ptc_serve_guard_stats {
    uint64_t denied;            /* connections refused at accept: off the allowlist */
    uint64_t head_timeouts;     /* connections closed for a late request head */
    uint64_t misses;            /* 404 answers (no such file, or not the client's) */
    uint64_t throttled;         /* requests and connections refused: miss budget spent */
} ptc_serve_guard_stats;

/* head_ms: the time a connection has for each request head (from its accept,
 * then from the end of each response).  miss_burst misses per address,
 * refilled over miss_window_s seconds; miss_burst 0 turns the budget off.
 * Free with ptc_serve_guard_free (NULL accepted). */
ptc_serve_guard *ptc_serve_guard_new(unsigned head_ms, unsigned miss_burst, unsigned miss_window_s);
void ptc_serve_guard_free(ptc_serve_guard *g);
/* A connection on socket fd was accepted: returns its handle (owned by the
 * guard until ptc_serve_guard_close), its head deadline running. */
void *ptc_serve_guard_open(ptc_serve_guard *g, int fd, int64_t now_ms);
/* The request head is complete: no deadline until the response is done. */
void ptc_serve_guard_head(ptc_serve_guard *g, void *conn);
/* The response is done: the next head's deadline runs.  conn NULL accepted. */
void ptc_serve_guard_done(ptc_serve_guard *g, void *conn, int64_t now_ms);
/* The connection is about to be closed (before its socket is): frees conn. */
void ptc_serve_guard_close(ptc_serve_guard *g, void *conn);
/* Shuts down the socket of every connection past its deadline; the count. */
size_t ptc_serve_guard_sweep(ptc_serve_guard *g, int64_t now_ms);
/* Records a miss by address sa; 1 when its budget is now spent. */
int ptc_serve_guard_miss(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms);
/* 1 (and counted as throttled) while sa's budget is spent. */
int ptc_serve_guard_throttled(ptc_serve_guard *g, const struct sockaddr *sa, int64_t now_ms);
void ptc_serve_guard_count_denied(ptc_serve_guard *g);
void ptc_serve_guard_stats_get(ptc_serve_guard *g, ptc_serve_guard_stats *out);

/* ---- paths (src/serve.c) ------------------------------------------------- */

enum {
    PTC_SERVE_PATH_OK = 0,
    PTC_SERVE_PATH_MALFORMED,   /* 400: .., encoded / or NUL, control bytes */
    PTC_SERVE_PATH_HIDDEN,      /* 404: never served (see above) */
    PTC_SERVE_PATH_ELSEWHERE    /* 404: not under /phoneprov/, or a directory */
};

/* Checks a decoded request path (as the server's unescaper left it: encoded
 * `/`, `\` and NUL become byte 0x01) against the serving rules.  On OK sets
 * *rel to the path below /phoneprov/ (inside url).  Otherwise *why names
 * the rule (a static string). */
int ptc_serve_path_check(const char *url, const char **rel, const char **why);
/* The same rules for a path relative to the base directory (used again on
 * the target of a symlink).  PTC_SERVE_PATH_OK or the class, with *why. */
int ptc_serve_rel_check(const char *rel, const char **why);
/* The Content-Type for a file name (by extension). */
const char *ptc_serve_content_type(const char *name);

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
/* Stops accepting, finishes, flushes and frees.  NULL accepted. */
void ptc_serve_stop(ptc_serve *s);

/* ---- the access log (src/serve_log.c) ------------------------------------ */

typedef struct ptc_serve_log ptc_serve_log;

/* path NULL or "-": stderr; "off": a log that drops everything.  NULL with
 * errno when the file cannot be opened (appending, 0640).  A thread of the
 * log's own writes it, so no caller ever waits for the disk or a reader. */
ptc_serve_log *ptc_serve_log_open(const char *path);
/* Appends one line (a newline is added); thread-safe; never blocks on I/O.
 * Past 1 MiB waiting to be written, the line is dropped and counted. */
void ptc_serve_log_line(ptc_serve_log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Asks the writer to write what is queued now and waits for it, at most 2 s. */
void ptc_serve_log_flush(ptc_serve_log *l);
/* Lines dropped so far (the count is also written into the log). */
uint64_t ptc_serve_log_dropped(ptc_serve_log *l);
/* Reopens the file (logrotate); stderr is left alone.  0 or -1/errno. */
int  ptc_serve_log_reopen(ptc_serve_log *l);
/* Writes what is queued (giving up after 1 s on a stalled reader) and
 * frees.  NULL accepted. */
void ptc_serve_log_close(ptc_serve_log *l);
/* Appends s to b for a log line: bytes outside printable ASCII, `"` and `\`
 * become \xHH, so no request can forge a line or a field. */
void ptc_serve_log_escape(ptc_buf *b, const char *s);

/* ---- the fetch audit (src/serve_audit.c) --------------------------------- */

/* One successful fetch by a known phone. */
typedef struct ptc_serve_fetch {
    char mac[13];               /* 12 lower-case hex digits */
    const char *path;           /* below /phoneprov/, no query */
    int64_t time;               /* unix seconds */
    const char *addr, *method, *user_agent;   /* user_agent may be NULL */
    int status;
    uint64_t bytes;
    int64_t file_mtime_ns;      /* the served file's mtime */
} ptc_serve_fetch;

typedef struct ptc_serve_audit ptc_serve_audit;

/* Opens (creating) the database and its phoneprov_fetch table.  NULL with a
 * reason in why. */
ptc_serve_audit *ptc_serve_audit_open(const char *path, char *why, size_t whylen);
/* Queues a fetch (copied; the User-Agent cut to 256 bytes).  Thread-safe;
 * the last fetch per (mac, path) wins, and at most 65,536 keys wait while
 * the database is busy (more are dropped and counted), so memory is bounded
 * whatever the traffic.  path must be the file served, in one spelling. */
void ptc_serve_audit_record(ptc_serve_audit *a, const ptc_serve_fetch *f);
/* Writes what is queued in one transaction.  0, or -1 with why (the queue
 * is kept for the next try). */
int  ptc_serve_audit_flush(ptc_serve_audit *a, char *why, size_t whylen);
void ptc_serve_audit_close(ptc_serve_audit *a);         /* flushes; NULL accepted */

/* The server's counters, summed in phoneprov_serve_stats by name. */
enum {
    PTC_SERVE_STAT_DENIED, PTC_SERVE_STAT_HEAD_TIMEOUTS, PTC_SERVE_STAT_MISSES,
    PTC_SERVE_STAT_THROTTLED, PTC_SERVE_STAT_LOG_DROPPED, PTC_SERVE_STAT_AUDIT_DROPPED,
    PTC_SERVE_STAT_N
};
/* Entries waiting to be written (0 for NULL). */
size_t ptc_serve_audit_queued(ptc_serve_audit *a);
/* Adds delta to counter stat, written with the next flush.  a NULL accepted. */
void ptc_serve_audit_count(ptc_serve_audit *a, int stat, uint64_t delta);

/* ---- reading the audit (ptc status, ptc notify --changed) ---------------- */

typedef struct ptc_audit_reader ptc_audit_reader;

/* What the audit says of one phone. */
typedef struct ptc_fetch_state {
    int fetched;                /* any fetch recorded */
    int64_t when;               /* the last one (unix seconds) */
    char addr[64], firmware[64];
    ptc_buf stale;              /* "path, path (gone)": files changed since they
                                 * were fetched; empty when none (caller frees) */
} ptc_fetch_state;

/* Opens the audit database read-only.  NULL with errno ENOENT when it does
 * not exist yet; NULL with a reason in why otherwise. */
ptc_audit_reader *ptc_audit_reader_open(const char *path, char *why, size_t whylen);
/* Fills st for the phone of 12-hex-digit mac; files are looked at below
 * base (the provisioning tree) to tell whether they changed since. */
void ptc_audit_reader_phone(ptc_audit_reader *r, const char *base, const char *mac, ptc_fetch_state *st);
/* The server's summed counters by name (0 when absent). */
long long ptc_audit_reader_stat(ptc_audit_reader *r, const char *name);
void ptc_audit_reader_close(ptc_audit_reader *r);      /* NULL accepted */

/* The SQL that creates the audit table (for docs and tests). */
extern const char ptc_serve_audit_schema[];

#endif
