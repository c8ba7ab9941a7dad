/* `ptc serve`: the provisioning files over HTTP and HTTPS (libmicrohttpd).
 *
 * The request path is include/ptc/serve.h's picture; docs/serve.md is the
 * user's guide.  What matters most here is what is never served: the
 * provisioning tree holds every phone's SIP password, so the rules are
 * checked on the decoded path, again on a symlink's target, and the file
 * is opened with openat2(RESOLVE_BENEATH) so the kernel, not string
 * handling, keeps us inside the base directory. */
#include "ptc/serve.h"
#include "serve_snap.h"
#include "ptc/listen.h"
#include "ptc/buf.h"
#include "ptc/cache.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/fsutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include "ptc/db.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


#define DEFAULT_LISTEN     "*:8080"
#define UPLOAD_DISCARD_MAX (1u << 20)   /* PUT bodies we read and drop */

/* ---- configuration snapshots ---------------------------------------------- */

typedef struct listener {
    ptc_listen sock;            /* fd, port, text */
    int tls;
    struct MHD_Daemon *d;
} listener;

struct ptc_serve {
    char *root, *rc_file, *allow_cli, *phone_db_opt, *tls_prio;
    char **server_names;        /* --server-name: the Host values served */
    size_t nserver_names;
    int mac_check;
    unsigned threads, max_conns, max_per_ip, timeout, flush_ms;
    ptc_buf cert, key;
    listener *ls;
    size_t nls;
    int beyond_loopback;
    pthread_rwlock_t lock;
    snap *cur;
    ptc_serve_log *log;
    ptc_serve_audit *audit;
    ptc_serve_guard *guard;
    _Atomic int commit_pending;     /* a run's renames are unfinished: 503 */
    int commit_err_said;            /* ...and that we cannot finish them was logged */
    ptc_serve_guard_stats stats_written;    /* what reached the audit */
    uint64_t log_dropped_written;
    time_t summary_at;              /* last counters line in the log */
    ptc_serve_guard_stats stats_summarised;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    pthread_t bg;
    int bg_started, stopping;
    _Atomic time_t audit_err_at;    /* last time an audit error was reported */
    uint64_t watch_failed;          /* phone table version whose reload failed */
    ptc_db_watch *watch;            /* the phone table's (bg thread) */
};

/* ---- errors and warnings -------------------------------------------------- */

/* To stderr, which may be a pipe nobody drains: when it has no room the
 * line is dropped rather than hold the thread that says it (libmicrohttpd's
 * own threads log through here). */
void ptc_serve_say(const char *sev, const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ptc_buf b = PTC_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ptc_buf_printf(&b, "%s ptc serve: %s: ", when, sev);
    ptc_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ptc_buf_putc(&b, '\n');
    /* One write of at most PIPE_BUF bytes, so lines from threads do not
     * interleave, and a write poll() found room for does not block. */
    struct pollfd pfd = {2, POLLOUT, 0};
    size_t n = b.len < PIPE_BUF ? b.len : PIPE_BUF;
    if (poll(&pfd, 1, 0) == 1 && !(pfd.revents & (POLLERR | POLLNVAL)) && write(2, b.data, n) < 0) {
        /* nowhere left to report it */
    }
    ptc_buf_free(&b);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    ptc_serve_say("warning", "libmicrohttpd: %s", msg);
}

/* ---- requests ------------------------------------------------------------- */

/* Decodes %HH in the path.  Encoded NUL, '/' and '\' become byte 0x01,
 * which the path rules refuse: a NUL would cut the path short (a.cfg%00.png
 * serving a.cfg), and an encoded '/' would smuggle `..%2f` past segment
 * checks.  Nothing here lengthens the string. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *p = s; *p;) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hx[3] = {p[1], p[2], '\0'};
            unsigned v = (unsigned)strtoul(hx, NULL, 16);
            if (v == 0 || v == '/' || v == '\\') v = 1;
            *w++ = (char)v;
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

typedef struct req {
    ptc_serve *s;
    struct MHD_Connection *c;
    const char *url, *method, *ua;
    char addr[INET6_ADDRSTRLEN];
    const struct sockaddr *sa;
    char mac[13];               /* the phone the request is about, or "" */
    const char *why;            /* why it was refused, or NULL */
    const char *note;           /* e.g. a MAC mismatch let through (warn) */
} req;

/* The log's time stamp, made once a second by each thread. */
static const char *log_time(void)
{
    static _Thread_local time_t made_at = -1;
    static _Thread_local char when[32];
    time_t now = time(NULL);
    if (now != made_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        made_at = now;
    }
    return when;
}

static void put_word(ptc_buf *b, const char *s)
{
    ptc_buf_putc(b, ' ');
    ptc_buf_puts(b, s);
}

/* "WHEN ADDR METHOD PATH STATUS BYTES mac=MAC ua="UA"[ refused="WHY"][NOTE]",
 * put together by hand: printf under the log's lock was a tenth of a
 * request. */
static void log_request(req *r, int status, uint64_t bytes)
{
    char num[48];
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_puts(&b, log_time());
    put_word(&b, r->addr);
    put_word(&b, r->method);
    ptc_buf_putc(&b, ' ');
    ptc_serve_log_escape(&b, r->url);
    snprintf(num, sizeof num, " %d %llu mac=", status, (unsigned long long)bytes);
    ptc_buf_puts(&b, num);
    ptc_buf_puts(&b, r->mac[0] ? r->mac : "-");
    ptc_buf_puts(&b, " ua=\"");
    ptc_serve_log_escape(&b, r->ua ? r->ua : "");
    ptc_buf_putc(&b, '"');
    if (r->why) {
        ptc_buf_puts(&b, " refused=\"");
        ptc_buf_puts(&b, r->why);
        ptc_buf_putc(&b, '"');
    }
    if (r->note) ptc_buf_puts(&b, r->note);
    ptc_serve_log_put(r->s->log, b.data, b.len);
    ptc_buf_free(&b);
}

static enum MHD_Result respond(req *r, int status, struct MHD_Response *resp, uint64_t bytes)
{
    enum MHD_Result ret = MHD_queue_response(r->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    log_request(r, status, bytes);
    return ret;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Every 404 spends the client's miss budget: a sweep of MAC addresses is a
 * run of misses. */
static enum MHD_Result respond_error(req *r, int status, const char *why)
{
    static const char *const bodies[][2] = {
        {"400", "400 Bad Request\n"}, {"403", "403 Forbidden\n"}, {"404", "404 Not Found\n"},
        {"405", "405 Method Not Allowed\n"}, {"421", "421 Misdirected Request\n"},
        {"429", "429 Too Many Requests\n"}, {"500", "500 Internal Server Error\n"},
        {"503", "503 Service Unavailable\n"},
    };
    if (status == 404) ptc_serve_guard_miss(r->s->guard, r->sa, now_ms());
    const char *body = "error\n";
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        if (strcmp(bodies[i][0], code) == 0) body = bodies[i][1];
    r->why = why;
    size_t len = strlen(body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (status == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (status == 429) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "10");
    if (status == 503) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "2");
    return respond(r, status, resp, strcmp(r->method, "HEAD") == 0 ? 0 : len);
}

/* 1 if an If-None-Match header value names our ETag (or is `*`). */
static int etag_matches(const char *inm, const char *etag)
{
    while (*inm == ' ') inm++;
    if (strcmp(inm, "*") == 0) return 1;
    return strstr(inm, etag) != NULL;
}

/* Queues the fetch under the path of the file served, spelt one way (a
 * symlink's target, no repeated '/'), so `a//b` and `a///b` are one row. */
static void record_fetch(req *r, const char *served, int status, uint64_t bytes, int64_t mtime_ns)
{
    char path[PATH_MAX];
    size_t n = 0;
    for (const char *p = served; *p && n + 1 < sizeof path; p++)
        if (!(*p == '/' && (n == 0 || path[n - 1] == '/'))) path[n++] = *p;
    path[n] = '\0';
    ptc_serve_fetch f;
    memcpy(f.mac, r->mac, 13);
    f.path = path;
    f.time = (int64_t)time(NULL);
    f.addr = r->addr;
    f.method = r->method;
    f.user_agent = r->ua;
    f.status = status;
    f.bytes = bytes;
    f.file_mtime_ns = mtime_ns;
    ptc_serve_audit_record(r->s->audit, &f);
}

/* MAC binding: a file named after a known phone goes to that phone only
 * (when its User-Agent says which phone it is).  Sets r->mac (and note) and
 * *has_f; the reason to refuse, or NULL. */
static const char *mac_refusal(req *r, const snap *sn, const char *rel, const char *target, int *has_f)
{
    char fmac[13], umac[13];
    *has_f = ptc_snap_path_mac(sn, rel, fmac) || (target && ptc_snap_path_mac(sn, target, fmac));
    int has_u = ptc_mac_find(r->ua, umac);
    if (*has_f) memcpy(r->mac, fmac, 13);
    else if (has_u) memcpy(r->mac, umac, 13);
    if (!*has_f || r->s->mac_check == PTC_SERVE_MAC_OFF) return NULL;
    if (has_u && strcmp(fmac, umac) != 0) {
        if (r->s->mac_check != PTC_SERVE_MAC_WARN) return "User-Agent names another phone";
        r->note = " warning=\"User-Agent names another phone\"";
    } else if (!has_u && r->s->mac_check == PTC_SERVE_MAC_STRICT) {
        return "no MAC in User-Agent (--mac-check=strict)";
    }
    return NULL;
}

/* 1 when the request's If-None-Match names etag, or (without it) its
 * If-Modified-Since is not older than mtime. */
static int is_not_modified(req *r, const char *etag, time_t mtime)
{
    const char *inm = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    if (inm) return etag_matches(inm, etag);
    if (!ims) return 0;
    struct tm it;
    memset(&it, 0, sizeof it);
    const char *end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &it);
    return end && *end == '\0' && timegm(&it) >= mtime;
}

typedef struct file_headers {    /* what a 200 of a file says besides its bytes */
    const char *ctype, *etag, *lastmod;
} file_headers;

static void add_file_headers(struct MHD_Response *resp, void *arg)
{
    const file_headers *h = arg;
    if (h->ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, h->ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, h->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, h->lastmod);
    /* Passwords inside: no shared cache may keep a copy. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

/* The file rel with its stat: kept ready (*ce, *fd stays -1) or opened
 * beneath the base (*fd, *target when through a symlink).  0, or the
 * status to refuse with and *why. */
static int find_file(const snap *sn, const char *rel, int *fd, char **target, struct stat *st,
                     ptc_serve_cached **ce, const char **why)
{
    *ce = ptc_serve_cache_get(sn->cache, sn->basefd, rel, st);
    if (*ce) return 0;
    *fd = ptc_snap_open_beneath(sn, rel, target, why);
    if (*fd < 0) return 404;
    if (*target) {
        const char *w2;
        if (ptc_serve_rel_check(*target, &w2) != PTC_SERVE_PATH_OK || ptc_snap_in_cache_dir(sn, *target)) {
            *why = "symlink to a file that is never served";
            return 404;
        }
    }
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        *why = "not a regular file (directory listings are off)";
        return 404;
    }
    return 0;
}

/* The 200 for the file: kept ready (filled now if it may be), or streamed
 * from fd (which the response then owns: *fd -1). */
static struct MHD_Response *ok_response(const snap *sn, const char *rel, int *fd, const char *target,
                                        const struct stat *st, const file_headers *h, ptc_serve_cached **ce)
{
    if (!*ce && !target)
        *ce = ptc_serve_cache_fill(sn->cache, rel, *fd, st, h->etag, h->lastmod, add_file_headers, (void *)h);
    if (*ce) return (*ce)->resp;
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64((uint64_t)st->st_size, *fd, 0);
    if (resp) {
        *fd = -1;
        add_file_headers(resp, (void *)h);
    }
    return resp;
}

static enum MHD_Result serve_file(req *r, const snap *sn)
{
    const char *rel = NULL, *why = NULL;
    char *target = NULL;
    int fd = -1, refuse;
    ptc_serve_cached *ce = NULL;
    enum MHD_Result ret;
    struct stat st;
    int cls = ptc_serve_path_check(r->url, &rel, &why);
    if (cls == PTC_SERVE_PATH_MALFORMED) { ret = respond_error(r, 400, why); goto done; }
    if (cls != PTC_SERVE_PATH_OK) { ret = respond_error(r, 404, why); goto done; }
    if (ptc_snap_in_cache_dir(sn, rel)) { ret = respond_error(r, 404, "bytecode cache"); goto done; }
    if ((refuse = find_file(sn, rel, &fd, &target, &st, &ce, &why))) { ret = respond_error(r, refuse, why); goto done; }

    int has_f = 0;
    const char *refusal = mac_refusal(r, sn, rel, target, &has_f);
    if (refusal) { ret = respond_error(r, 404, refusal); goto done; }

    char etag[80], lastmod[40];
    int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (ce) {                           /* the same file: the same validators */
        memcpy(etag, ce->etag, sizeof etag);
        memcpy(lastmod, ce->lastmod, sizeof lastmod);
    } else {
        snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
                 (unsigned long long)st.st_size, (unsigned long long)mtime_ns);
        struct tm tm;
        gmtime_r(&st.st_mtim.tv_sec, &tm);
        strftime(lastmod, sizeof lastmod, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    }
    file_headers h = {ptc_serve_content_type(target ? target : rel), etag, lastmod};

    struct MHD_Response *resp;
    int status;
    uint64_t bytes = 0;
    if (is_not_modified(r, etag, st.st_mtim.tv_sec)) {
        status = 304;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp) add_file_headers(resp, &(file_headers){NULL, etag, lastmod});
    } else {
        status = 200;
        resp = ok_response(sn, rel, &fd, target, &st, &h, &ce);
        if (resp && strcmp(r->method, "HEAD") != 0) bytes = (uint64_t)st.st_size;
    }
    if (!resp) { ret = respond_error(r, 500, "out of memory"); goto done; }
    if (ce && status == 200) {          /* the cache keeps its own */
        ret = MHD_queue_response(r->c, 200, resp);
        log_request(r, status, bytes);
    } else {
        ret = respond(r, status, resp, bytes);
    }

    /* A HEAD delivers nothing: only a GET counts as the phone having the file. */
    if (r->s->audit && r->mac[0] && strcmp(r->method, "GET") == 0 &&
        (has_f || ptc_snap_known_mac(sn, ptc_mac_value(r->mac))))
        record_fetch(r, target ? target : rel, status, bytes, mtime_ns);
done:
    ptc_serve_cache_put(sn->cache, ce);
    if (fd >= 0) close(fd);
    free(target);
    return ret;
}

/* The Host check: HTTP/1.1 requires the header (400 without it), and with
 * --server-name only those names are served (421), so a page on an allowed
 * subnet cannot reach us under a name of its own (DNS rebinding). */
static int host_refusal(const req *r, const char *version, const char **why)
{
    const char *host = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host) {
        if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0) return 0;
        *why = "HTTP/1.1 request without Host";
        return 400;
    }
    if (!r->s->nserver_names) return 0;
    size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
    for (size_t i = 0; i < r->s->nserver_names; i++)
        if (strlen(r->s->server_names[i]) == n && strncasecmp(host, r->s->server_names[i], n) == 0) return 0;
    *why = "Host is not one of --server-name";
    return 421;
}

/* The first call: only the headers are in.  A client refused is answered now
 * (MHD then closes the connection, which suits it); anybody else waits for
 * the end of the request, since a response queued before the body is read
 * costs the connection its keep-alive.  *con_cls counts the body bytes we
 * dropped, plus one so that it is never NULL. */
static enum MHD_Result first_call(req *r, void **con_cls, const char *version)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci) ptc_serve_guard_head(r->s->guard, ci->socket_context);
    const char *why = NULL;
    int status = 0;
    /* The accept policy refused addresses off the list; this catches the
     * connections accepted before a reload closed the list. */
    pthread_rwlock_rdlock(&r->s->lock);
    if (!r->sa || !ptc_serve_allow_match(r->s->cur->allow, r->sa)) {
        status = 403;
        why = "address not in the allowlist";
    }
    pthread_rwlock_unlock(&r->s->lock);
    if (!status && ptc_serve_guard_throttled(r->s->guard, r->sa, now_ms())) {
        status = 429;
        why = "too many misses from this address";
    }
    if (!status) status = host_refusal(r, version, &why);
    if (!status && r->s->commit_pending) {
        status = 503;
        why = "a run's commit is unfinished";
    }
    if (status) return respond_error(r, status, why);
    *con_cls = (void *)(uintptr_t)1;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)upload_data;
    req r = {.s = cls, .c = c, .url = url, .method = method,
             .ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT)};
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    r.sa = ci ? ci->client_addr : NULL;
    if (r.sa) ptc_serve_addr_text(r.sa, r.addr, sizeof r.addr);
    else snprintf(r.addr, sizeof r.addr, "?");

    if (*con_cls == NULL) return first_call(&r, con_cls, version);
    if (*upload_data_size) {
        /* Phones PUT their logs and contact lists here: we read and drop
         * the body (up to a limit), so the phone sees a clean 405 rather
         * than a reset connection, and store nothing. */
        uintptr_t seen = (uintptr_t)*con_cls + *upload_data_size;
        *upload_data_size = 0;
        *con_cls = (void *)seen;
        if (seen <= UPLOAD_DISCARD_MAX) return MHD_YES;
    }
    /* A NUL in the request line ends MHD's copy of it early: the version is
     * then missing, and the path it kept is not the one that was sent. */
    if (strncmp(version, "HTTP/1.", 7) != 0)
        return respond_error(&r, 400, "bad request line (NUL or no HTTP version)");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond_error(&r, 405, NULL);
    pthread_rwlock_rdlock(&r.s->lock);
    enum MHD_Result ret = serve_file(&r, r.s->cur);
    pthread_rwlock_unlock(&r.s->lock);
    return ret;
}

/* ---- listeners ------------------------------------------------------------ */

/* ADDR:PORT, [V6]:PORT, *:PORT or PORT into host (size INET6_ADDRSTRLEN + 2)
 * and *port.  0, or -1 for a spec of no such form. */
/* The accept policy: an address off the allowlist, or out of its miss
 * budget, is closed before libmicrohttpd allocates anything for it; it holds
 * no slot and costs a counter. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    ptc_serve *s = cls;
    (void)len;
    pthread_rwlock_rdlock(&s->lock);
    int ok = ptc_serve_allow_match(s->cur->allow, sa);
    pthread_rwlock_unlock(&s->lock);
    if (!ok) {
        ptc_serve_guard_count_denied(s->guard);
        return MHD_NO;
    }
    return ptc_serve_guard_throttled(s->guard, sa, now_ms()) ? MHD_NO : MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ptc_serve *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? ptc_serve_guard_open(s->guard, ci->connect_fd, now_ms()) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        ptc_serve_guard_close(s->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ptc_serve *s = cls;
    (void)con_cls;
    (void)toe;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci) ptc_serve_guard_done(s->guard, ci->socket_context, now_ms());
}

static int start_daemon(ptc_serve *s, listener *l, char *why, size_t whylen)
{
    /* TURBO: optimistic reads and no shutdown() before close; worth about
     * 1.5x in requests per second on plain HTTP (bench/serve.sh).  Not with
     * TLS: libmicrohttpd 0.9.75 then puts a new connection on its "ready"
     * list instead of into the epoll set, and the handshake reads the socket
     * through GnuTLS, which never clears the connection's read-ready flag on
     * EAGAIN.  A client that sends no ClientHello so keeps a thread spinning
     * on it, is never added to epoll (its FIN is never seen: CLOSE-WAIT) and
     * holds its slot for good.  Our head deadline (serve_guard.c) closes a
     * handshake that does not finish in time either way. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (l->tls) flags |= MHD_USE_TLS;
    else flags |= MHD_USE_TURBO;
    struct MHD_OptionItem ops[16];
    size_t n = 0;
#define OPT(o, v, p) (ops[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_LISTEN_SOCKET, l->sock.fd, NULL);
    if (s->threads > 1) OPT(MHD_OPTION_THREAD_POOL_SIZE, s->threads, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, s->max_conns, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->max_per_ip, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->timeout, NULL);
    if (l->tls) {
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)ptc_buf_cstr(&s->key));
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)ptc_buf_cstr(&s->cert));
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(s->tls_prio ? s->tls_prio : "NORMAL"));
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    /* The logger goes first so that start-up errors reach it; function
     * pointers go as varargs (an OptionItem holds only data pointers). */
    l->d = MHD_start_daemon(flags, 0, on_accept, s, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, (void *)s,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, (void *)s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, (void *)s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)s,
                            MHD_OPTION_ARRAY, ops,
                            MHD_OPTION_END);
    if (!l->d) {
        snprintf(why, whylen, "cannot start the %s server on %s%s", l->tls ? "HTTPS" : "HTTP", l->sock.text,
                 l->tls ? " (check --cert and --key)" : "");
        return -1;
    }
    l->sock.fd = -1;                 /* MHD closes it at stop */
    return 0;
}

/* ---- background thread: flush, watch the phone table ---------------------- */

static void flush_audit(ptc_serve *s)
{
    char why[512];
    if (!s->audit || ptc_serve_audit_flush(s->audit, why, sizeof why) == 0) return;
    time_t now = time(NULL);
    /* A locked or full database would otherwise print a line a second. */
    if (now - s->audit_err_at >= 60) {
        ptc_serve_say("error", "%s (kept in memory, retrying)", why);
        s->audit_err_at = now;
    }
}

static ptc_snap_src snap_src_of(const ptc_serve *s)
{
    return (ptc_snap_src){s->root, s->rc_file, s->allow_cli, s->phone_db_opt};
}

static int do_reload(ptc_serve *s, int reopen_log, const char *what)
{
    ptc_snap_src src = snap_src_of(s);
    char why[768];
    snap *sn = ptc_snap_build(&src, s->cur, why, sizeof why);
    if (!sn) {
        ptc_serve_say("error", "%s failed, keeping the old configuration: %s", what, why);
        return -1;
    }
    if (ptc_serve_allow_is_open(sn->allow) && s->beyond_loopback)
        ptc_serve_say("warning", "PHONEPROV_ALLOW is empty: every address may fetch provisioning files "
            "(and the passwords in them)");
    size_t nmacs = sn->nmacs;
    pthread_rwlock_wrlock(&s->lock);
    snap *old = s->cur;
    s->cur = sn;
    pthread_rwlock_unlock(&s->lock);
    ptc_snap_free(old);
    if (reopen_log && ptc_serve_log_reopen(s->log) != 0)
        ptc_serve_say("error", "cannot reopen the access log: %s", strerror(errno));
    ptc_serve_say("note", "%s done: %zu phone%s, allowlist %s", what, nmacs, nmacs == 1 ? "" : "s",
        ptc_serve_allow_is_open(sn->allow) ? "open" : "set");
    return 0;
}

/* A run stopped after its commit point leaves the tree half old, half new:
 * finish it (unless a live run holds the lock and is finishing it), and
 * answer 503 until it is done rather than serve the mix.  diag: at start,
 * NULL from the background thread (which logs). */
static void check_commit(ptc_serve *s, ptc_diag *diag)
{
    pthread_rwlock_rdlock(&s->lock);
    char *db = ptc_xstrdup(s->cur->phone_db), *state = ptc_commit_state_dir(&s->cur->cfg, db);
    pthread_rwlock_unlock(&s->lock);
    if (!ptc_commit_pending(state)) {
        s->commit_pending = 0;
        s->commit_err_said = 0;
        free(db);
        free(state);
        return;
    }
    s->commit_pending = 1;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    int rc = ptc_commit_finish(state, db, diag ? diag : &quiet);
    if (rc == 0) {
        ptc_serve_say("note", "finished a run interrupted after its commit point (%s)", db);
        s->commit_pending = 0;
        s->commit_err_said = 0;
        do_reload(s, 0, "after finishing the interrupted run: reload");
    } else if (rc < 0 && !s->commit_err_said) {
        s->commit_err_said = 1;         /* once, not every second */
        ptc_serve_say("error", "a run was interrupted after its commit point and cannot be finished here "
            "(run `ptc recover` or `ptc run`): answering 503 until it is");
    }
    free(db);
    free(state);
}

/* Hands the guard's and the log's new counts to the audit table. */
static void count_stats(ptc_serve *s)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;    /* tests flush too */
    pthread_mutex_lock(&mu);
    ptc_serve_guard_stats g;
    ptc_serve_guard_stats_get(s->guard, &g);
    uint64_t dropped = ptc_serve_log_dropped(s->log);
    ptc_serve_audit_count(s->audit, PTC_SERVE_STAT_DENIED, g.denied - s->stats_written.denied);
    ptc_serve_audit_count(s->audit, PTC_SERVE_STAT_HEAD_TIMEOUTS, g.head_timeouts - s->stats_written.head_timeouts);
    ptc_serve_audit_count(s->audit, PTC_SERVE_STAT_MISSES, g.misses - s->stats_written.misses);
    ptc_serve_audit_count(s->audit, PTC_SERVE_STAT_THROTTLED, g.throttled - s->stats_written.throttled);
    ptc_serve_audit_count(s->audit, PTC_SERVE_STAT_LOG_DROPPED, dropped - s->log_dropped_written);
    s->stats_written = g;
    s->log_dropped_written = dropped;
    pthread_mutex_unlock(&mu);
}

/* A line a minute, when something was refused, so an attack shows in the
 * log without a line per refused connection. */
static void summarise(ptc_serve *s)
{
    time_t now = time(NULL);
    if (now - s->summary_at < 60) return;
    ptc_serve_guard_stats g;
    ptc_serve_guard_stats_get(s->guard, &g);
    const ptc_serve_guard_stats *o = &s->stats_summarised;
    if (g.denied != o->denied || g.head_timeouts != o->head_timeouts || g.throttled != o->throttled)
        ptc_serve_say("warning", "last minute: %llu connection%s off the allowlist refused, %llu closed for a late "
            "request head, %llu refused for spending the miss budget (%llu misses)",
            (unsigned long long)(g.denied - o->denied), g.denied - o->denied == 1 ? "" : "s",
            (unsigned long long)(g.head_timeouts - o->head_timeouts),
            (unsigned long long)(g.throttled - o->throttled), (unsigned long long)(g.misses - o->misses));
    s->stats_summarised = g;
    s->summary_at = now;
}

static void *bg_main(void *arg)
{
    ptc_serve *s = arg;
    pthread_mutex_lock(&s->bg_mu);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->flush_ms / 1000;
        until.tv_nsec += (long)(s->flush_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&s->bg_cv, &s->bg_mu, &until);
        if (s->stopping) break;
        pthread_mutex_unlock(&s->bg_mu);
        ptc_serve_guard_sweep(s->guard, now_ms());
        check_commit(s, NULL);
        count_stats(s);
        flush_audit(s);
        summarise(s);
        pthread_rwlock_rdlock(&s->lock);
        uint64_t was = s->cur->phone_db_version;
        if (!s->watch) s->watch = ptc_db_watch_new(s->cur->phone_db);
        pthread_rwlock_unlock(&s->lock);
        uint64_t now = ptc_db_watch_version(s->watch);
        /* A reload that failed is not retried (and logged) every second,
         * only when the table changes again. */
        if (now != was && now != s->watch_failed &&
            do_reload(s, 0, "phone table changed: reload") != 0)
            s->watch_failed = now;
        pthread_mutex_lock(&s->bg_mu);
    }
    pthread_mutex_unlock(&s->bg_mu);
    return NULL;
}

/* ---- the server's life ---------------------------------------------------- */

static char *join_allow(const char *const *v, size_t n)
{
    if (n == 0) return NULL;
    ptc_buf b = PTC_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i) ptc_buf_putc(&b, ' ');
        ptc_buf_puts(&b, v[i]);
    }
    return (char *)ptc_buf_cstr(&b);
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2u : n > 64 ? 64u : (unsigned)n;
}

/* A server with o's settings copied and defaults filled in, not started. */
static ptc_serve *serve_new(const ptc_serve_opts *o)
{
    ptc_serve *s = ptc_xcalloc(1, sizeof *s);
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->bg_mu, NULL);
    pthread_cond_init(&s->bg_cv, NULL);
    s->root = o->root ? ptc_xstrdup(o->root) : NULL;
    s->rc_file = o->rc_file ? ptc_xstrdup(o->rc_file) : NULL;
    s->allow_cli = join_allow(o->allow, o->nallow);
    s->phone_db_opt = o->phone_db ? ptc_xstrdup(o->phone_db) : NULL;
    s->tls_prio = o->tls_priorities ? ptc_xstrdup(o->tls_priorities) : NULL;
    s->mac_check = o->mac_check;
    s->threads = o->threads ? o->threads : default_threads();
    s->max_conns = o->max_conns ? o->max_conns : 1000;
    s->max_per_ip = o->max_per_ip ? o->max_per_ip : 64;
    s->timeout = o->timeout ? o->timeout : 15;
    s->flush_ms = o->flush_ms ? o->flush_ms : 1000;
    unsigned budget = o->miss_budget == PTC_SERVE_MISS_OFF ? 0 : o->miss_budget ? o->miss_budget : 30;
    s->guard = ptc_serve_guard_new(s->timeout * 1000, budget, 60);
    s->server_names = ptc_xcalloc(o->nserver_names + 1, sizeof *s->server_names);
    for (size_t i = 0; i < o->nserver_names; i++) s->server_names[i] = ptc_xstrdup(o->server_names[i]);
    s->nserver_names = o->nserver_names;
    return s;
}

int ptc_serve_start(const ptc_serve_opts *o, ptc_serve **out, ptc_diag *diag)
{
    char why[768];
    ptc_serve *s = serve_new(o);
    if (s->allow_cli && ptc_serve_allow_is_blank(s->allow_cli)) {
        snprintf(why, sizeof why, "--allow is empty: name the addresses allowed (or '*' for every address)");
        goto fail;
    }

    ptc_snap_src src = snap_src_of(s);
    s->cur = ptc_snap_build(&src, NULL, why, sizeof why);
    if (!s->cur) goto fail;
    check_commit(s, diag);
    s->log = ptc_serve_log_open(o->access_log);
    if (!s->log) {
        snprintf(why, sizeof why, "cannot open access log %s: %s", o->access_log, strerror(errno));
        goto fail;
    }
    if (!o->audit_db || strcmp(o->audit_db, "off") != 0) {
        char *path = ptc_cfg_audit_db(&s->cur->cfg, o->audit_db);
        s->audit = ptc_serve_audit_open(path, why, sizeof why);
        free(path);
        if (!s->audit) goto fail;
    }
    if (o->ntls_listen) {
        if (!o->cert_file || !o->key_file) {
            snprintf(why, sizeof why, "--tls-listen needs --cert and --key");
            goto fail;
        }
        if (ptc_read_file(o->cert_file, &s->cert) != 0) {
            snprintf(why, sizeof why, "cannot read certificate %s: %s", o->cert_file, strerror(errno));
            goto fail;
        }
        if (ptc_read_file(o->key_file, &s->key) != 0) {
            snprintf(why, sizeof why, "cannot read key %s: %s", o->key_file, strerror(errno));
            goto fail;
        }
    }
    size_t nplain = o->nlisten, total = o->nlisten + o->ntls_listen;
    int dflt = total == 0;
    if (dflt) total = nplain = 1;
    s->ls = ptc_xcalloc(total, sizeof *s->ls);
    for (size_t i = 0; i < total; i++) {
        const char *spec = dflt ? DEFAULT_LISTEN : i < nplain ? o->listen[i] : o->tls_listen[i - nplain];
        if (ptc_listen_open(spec, &s->ls[i].sock, why, sizeof why) != 0) goto fail;
        s->nls++;
        s->ls[i].tls = i >= nplain;
        if (!ptc_listen_is_loopback(&s->ls[i].sock)) s->beyond_loopback = 1;
    }
    for (size_t i = 0; i < s->nls; i++)
        if (start_daemon(s, &s->ls[i], why, sizeof why) != 0) goto fail;
    if (ptc_serve_allow_is_open(s->cur->allow) && s->beyond_loopback)
        ptc_diag_plain(diag, PTC_WARNING, "serve-open",
                       "PHONEPROV_ALLOW is empty and the server listens beyond loopback: every "
                       "address may fetch provisioning files (and the passwords in them)");
    if (pthread_create(&s->bg, NULL, bg_main, s) != 0) {
        snprintf(why, sizeof why, "cannot start a thread: %s", strerror(errno));
        goto fail;
    }
    s->bg_started = 1;
    for (size_t i = 0; i < s->nls; i++)
        ptc_diag_plain(diag, PTC_NOTE, "serve", "listening on %s://%s/phoneprov/ (serving %s, %zu phone%s)",
                       s->ls[i].tls ? "https" : "http", s->ls[i].sock.text, s->cur->base_real,
                       s->cur->nmacs, s->cur->nmacs == 1 ? "" : "s");
    *out = s;
    return 0;
fail:
    ptc_diag_plain(diag, PTC_ERROR, "serve", "%s", why);
    ptc_serve_stop(s);
    return -1;
}

int ptc_serve_port(const ptc_serve *s, size_t i)
{
    return s && i < s->nls ? s->ls[i].sock.port : -1;
}

int ptc_serve_reload(ptc_serve *s)
{
    return do_reload(s, 1, "reload");
}

void ptc_serve_stats(ptc_serve *s, ptc_serve_guard_stats *out)
{
    ptc_serve_guard_stats_get(s->guard, out);
}

size_t ptc_serve_audit_waiting(ptc_serve *s)
{
    return ptc_serve_audit_queued(s->audit);
}

void ptc_serve_flush(ptc_serve *s)
{
    count_stats(s);
    ptc_serve_log_flush(s->log);
    flush_audit(s);
}

void ptc_serve_stop(ptc_serve *s)
{
    if (!s) return;
    /* Stop answering first: after MHD_stop_daemon no request thread runs,
     * so the last flush below sees every request. */
    for (size_t i = 0; i < s->nls; i++) {
        if (s->ls[i].d) MHD_stop_daemon(s->ls[i].d);
        if (s->ls[i].sock.fd >= 0) close(s->ls[i].sock.fd);
    }
    if (s->bg_started) {
        pthread_mutex_lock(&s->bg_mu);
        s->stopping = 1;
        pthread_cond_signal(&s->bg_cv);
        pthread_mutex_unlock(&s->bg_mu);
        pthread_join(s->bg, NULL);
    }
    if (s->audit) count_stats(s);
    ptc_serve_audit_close(s->audit);
    ptc_db_watch_free(s->watch);
    ptc_serve_log_close(s->log);
    ptc_serve_guard_free(s->guard);
    for (size_t i = 0; i < s->nserver_names; i++) free(s->server_names[i]);
    free(s->server_names);
    ptc_snap_free(s->cur);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->bg_mu);
    pthread_cond_destroy(&s->bg_cv);
    /* The key stays in no freed memory. */
    if (s->key.data) explicit_bzero(s->key.data, s->key.cap);
    ptc_buf_free(&s->key);
    ptc_buf_free(&s->cert);
    free(s->ls);
    free(s->root);
    free(s->rc_file);
    free(s->allow_cli);
    free(s->phone_db_opt);
    free(s->tls_prio);
    free(s);
}
