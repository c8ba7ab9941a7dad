/* `ptc serve`: the provisioning files over HTTP and HTTPS (libmicrohttpd).
 *
 * The request path is include/ptc/serve.h's picture; docs/serve.md is the
 * user's guide.  What matters most here is what is never served: the
 * provisioning tree holds every phone's SIP password, so the rules are
 * checked on the decoded path, again on a symlink's target, and the file
 * is opened with openat2(RESOLVE_BENEATH) so the kernel, not string
 * handling, keeps us inside the base directory. */
#include "ptc/serve.h"
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
#include <sqlite3.h>
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

#if defined(SYS_openat2) && defined(__has_include)
#  if __has_include(<linux/openat2.h>)
#    include <linux/openat2.h>
#    define HAVE_OPENAT2 1
#  endif
#endif

#define DEFAULT_LISTEN     "*:8080"
#define DEFAULT_PHONE_DB   "/mnt/kd/asterisk-odbc.sqlite3"
#define DEFAULT_AUDIT_DB   "/mnt/kd/phoneprov-audit.sqlite3"
#define UPLOAD_DISCARD_MAX (1u << 20)   /* PUT bodies we read and drop */

/* ---- path rules ----------------------------------------------------------- */

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The rules for one path segment; first says it is the top one. */
static int segment_check(const char *seg, size_t n, int first, const char **why)
{
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
        *why = "dot segment";
        return PTC_SERVE_PATH_MALFORMED;
    }
    if (seg[0] == '.') {
        /* ptc's temporary files (.NAME.ptc-XXXXXX), its manifest and lock,
         * editors' and version control's files. */
        *why = "dot file";
        return PTC_SERVE_PATH_HIDDEN;
    }
    if (first && n == 9 && strncasecmp(seg, "templates", 9) == 0) {
        *why = "templates directory";
        return PTC_SERVE_PATH_HIDDEN;
    }
    /* Phone lists and templates are *.conf (massdeployment.conf,
     * webgui-massdeployment.conf); their copies too (x.conf.bak, x.conf~). */
    for (size_t i = 0; i + 5 <= n; i++) {
        if (strncasecmp(seg + i, ".conf", 5) == 0 &&
            (i + 5 == n || seg[i + 5] == '.' || seg[i + 5] == '~' || seg[i + 5] == '-' || seg[i + 5] == '_')) {
            *why = "phone list or template (*.conf)";
            return PTC_SERVE_PATH_HIDDEN;
        }
    }
    static const char *const hidden_suffix[][2] = {
        {".ptcb", "bytecode cache file"},
        {".sqlite3", "database"}, {".sqlite", "database"}, {".db", "database"},
        {"-journal", "database"}, {"-wal", "database"}, {"-shm", "database"},
        {"~", "backup file"}, {".bak", "backup file"}, {".orig", "backup file"},
        {".swp", "backup file"}, {".tmp", "temporary file"},
    };
    for (size_t i = 0; i < sizeof hidden_suffix / sizeof hidden_suffix[0]; i++) {
        if (ends_with_ci(seg, n, hidden_suffix[i][0])) {
            *why = hidden_suffix[i][1];
            return PTC_SERVE_PATH_HIDDEN;
        }
    }
    return PTC_SERVE_PATH_OK;
}

int ptc_serve_rel_check(const char *rel, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *why = "control byte, encoded '/' or NUL in path";
            return PTC_SERVE_PATH_MALFORMED;
        }
        if (*p == '\\') {
            *why = "backslash in path";
            return PTC_SERVE_PATH_MALFORMED;
        }
    }
    const char *s = rel;
    int first = 1, rc = PTC_SERVE_PATH_OK;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n) {
            const char *w = NULL;
            int r = segment_check(s, n, first, &w);
            /* A malformed path wins over a hidden one: it is an attack, not
             * a mistake, and the log should say so. */
            if (r == PTC_SERVE_PATH_MALFORMED) { *why = w; return r; }
            if (r != PTC_SERVE_PATH_OK && rc == PTC_SERVE_PATH_OK) { rc = r; *why = w; }
            first = 0;
        }
        if (!e) break;
        s = e + 1;
    }
    if (rc != PTC_SERVE_PATH_OK) return rc;
    size_t len = strlen(rel);
    if (len == 0 || rel[len - 1] == '/') {
        *why = "directory (listings are off)";
        return PTC_SERVE_PATH_ELSEWHERE;
    }
    return PTC_SERVE_PATH_OK;
}

int ptc_serve_path_check(const char *url, const char **rel, const char **why)
{
    static const char prefix[] = "/phoneprov/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        *why = strcmp(url, "/phoneprov") == 0 ? "directory (listings are off)" : "not under /phoneprov/";
        /* Still reject attacks outside the prefix as such, for the log. */
        const char *w2;
        if (ptc_serve_rel_check(url[0] == '/' ? url + 1 : url, &w2) == PTC_SERVE_PATH_MALFORMED) {
            *why = w2;
            return PTC_SERVE_PATH_MALFORMED;
        }
        return PTC_SERVE_PATH_ELSEWHERE;
    }
    const char *r = url + sizeof prefix - 1;
    while (*r == '/') r++;      /* openat2 would take a leading '/' as absolute */
    int rc = ptc_serve_rel_check(r, why);
    if (rc == PTC_SERVE_PATH_OK) *rel = r;
    return rc;
}

const char *ptc_serve_content_type(const char *name)
{
    static const char *const types[][2] = {
        {".cfg", "text/plain"}, {".txt", "text/plain"}, {".ini", "text/plain"},
        {".csv", "text/csv"}, {".xml", "application/xml"}, {".htm", "text/html"},
        {".html", "text/html"}, {".json", "application/json"}, {".png", "image/png"},
        {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
        {".bmp", "image/bmp"}, {".wav", "audio/wav"}, {".pem", "application/x-pem-file"},
        {".crt", "application/x-x509-ca-cert"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with_ci(name, n, types[i][0])) return types[i][1];
    /* Grandstream's cfgMAC (binary config, no extension), firmware images. */
    return "application/octet-stream";
}

/* ---- configuration snapshots ---------------------------------------------- */

/* What a request needs to know, immutable once built: a reload builds a new
 * one and swaps it in under the write lock, so requests never see half a
 * configuration. */
typedef struct snap {
    ptc_cfg cfg;
    ptc_serve_allow *allow;
    char *allow_spec;           /* the text it was parsed from (NULL: unset) */
    int rc_read;                /* rc.conf was there to read */
    uint64_t *macs;             /* sorted, the phone table's MACs */
    size_t nmacs;
    int basefd;
    char *base_real;            /* realpath of the base directory */
    size_t base_len;
    char *cache_rel;            /* bytecode cache below the base, or NULL */
    char *phone_db;
    struct timespec phone_db_mtime;
} snap;

typedef struct listener {
    int fd, tls, port;
    char text[INET6_ADDRSTRLEN + 16];
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
    struct timespec watch_failed;   /* phone table mtime whose reload failed */
};

static void snap_free(snap *sn)
{
    if (!sn) return;
    ptc_cfg_free(&sn->cfg);
    ptc_serve_allow_free(sn->allow);
    free(sn->allow_spec);
    free(sn->macs);
    if (sn->basefd >= 0) close(sn->basefd);
    free(sn->base_real);
    free(sn->cache_rel);
    free(sn->phone_db);
    free(sn);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The newest mtime of the phone database and its WAL: `ptc run` commits
 * into the WAL, which reaches the main file only at a checkpoint. */
static struct timespec db_mtime(const char *path)
{
    struct timespec t = {0, 0};
    struct stat st;
    if (stat(path, &st) == 0) t = st.st_mtim;
    char wal[PATH_MAX];
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &st) == 0 && (st.st_mtim.tv_sec > t.tv_sec ||
        (st.st_mtim.tv_sec == t.tv_sec && st.st_mtim.tv_nsec > t.tv_nsec)))
        t = st.st_mtim;
    return t;
}

/* Reads the MACs of the phone table.  A missing database or table is not an
 * error (no phones yet: MAC binding has nothing to bind); a broken one is. */
static int load_macs(snap *sn, char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = -1, step = SQLITE_DONE;
    sn->phone_db_mtime = db_mtime(sn->phone_db);
    if (!ptc_exists(sn->phone_db)) { rc = 0; goto done; }
    if (sqlite3_open_v2(sn->phone_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto done;
    sqlite3_busy_timeout(db, 2000);
    if (sqlite3_prepare_v2(db, "SELECT mac_addr FROM phoneprov", -1, &st, NULL) != SQLITE_OK) {
        if (strstr(sqlite3_errmsg(db), "no such table")) rc = 0;
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char mac[13];
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!ptc_serve_mac_norm(v, mac)) continue;
        if (sn->nmacs == cap) {
            cap = cap ? cap * 2 : 64;
            sn->macs = ptc_xrealloc(sn->macs, cap * sizeof *sn->macs);
        }
        sn->macs[sn->nmacs++] = ptc_serve_mac_value(mac);
    }
    if (step != SQLITE_DONE) goto done;
    if (sn->nmacs) {
        qsort(sn->macs, sn->nmacs, sizeof *sn->macs, cmp_u64);
        size_t k = 1;
        for (size_t i = 1; i < sn->nmacs; i++)
            if (sn->macs[i] != sn->macs[k - 1]) sn->macs[k++] = sn->macs[i];
        sn->nmacs = k;
    }
    rc = 0;
done:
    if (rc != 0)
        snprintf(why, whylen, "phone table %s: %s", sn->phone_db, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static int known_mac(const snap *sn, uint64_t v)
{
    return sn->nmacs && bsearch(&v, sn->macs, sn->nmacs, sizeof v, cmp_u64) != NULL;
}

/* The first run of 12 hex digits in path that is a known phone's MAC. */
static int path_phone_mac(const snap *sn, const char *path, char mac[13])
{
    size_t run = 0;
    for (size_t i = 0; path[i]; i++) {
        run = isxdigit((unsigned char)path[i]) ? run + 1 : 0;
        if (run >= 12) {
            const char *w = path + i - 11;
            if (known_mac(sn, ptc_serve_mac_value(w))) {
                for (int k = 0; k < 12; k++) mac[k] = (char)tolower((unsigned char)w[k]);
                mac[12] = '\0';
                return 1;
            }
        }
    }
    return 0;
}

static void say(const char *sev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int is_blank(const char *spec)
{
    return spec[strspn(spec, " \t,")] == '\0';
}

/* The allowlist of a new snapshot.  It fails closed: once PHONEPROV_ALLOW
 * has closed the server, a reload that finds it gone or blank keeps the
 * previous list (only an explicit setting, such as `*`, opens it). */
static int pick_allow(const ptc_serve *s, snap *sn, const snap *prev, char *why, size_t whylen)
{
    const char *spec = s->allow_cli;
    if (!spec) {
        spec = ptc_cfg_get(&sn->cfg, "PHONEPROV_ALLOW");
        if (prev && prev->allow_spec && !ptc_serve_allow_is_open(prev->allow) && (!spec || is_blank(spec))) {
            say("error", "reload: PHONEPROV_ALLOW is %s in %s: keeping the previous allowlist",
                spec ? "blank" : "gone", sn->cfg.rc_path);
            spec = prev->allow_spec;
        }
    }
    sn->allow = ptc_serve_allow_parse(spec, why, whylen);
    if (!sn->allow) return -1;
    sn->allow_spec = spec ? ptc_xstrdup(spec) : NULL;
    return 0;
}

static snap *snap_build(ptc_serve *s, const snap *prev, char *why, size_t whylen)
{
    snap *sn = ptc_xcalloc(1, sizeof *sn);
    sn->basefd = -1;
    char *base = NULL, *cache = NULL, *cache_real = NULL;
    int ok = 0;
    FILE *devnull = fopen("/dev/null", "w");
    ptc_diag quiet;
    ptc_diag_init(&quiet, devnull ? devnull : stderr);
    if (ptc_cfg_load(&sn->cfg, s->root, s->rc_file, &quiet) != 0) {
        snprintf(why, whylen, "cannot read %s: %s", s->rc_file ? s->rc_file : "rc.conf", strerror(errno));
        goto fail;
    }
    char *rc_open = s->rc_file ? ptc_xstrdup(s->rc_file) : ptc_cfg_path(&sn->cfg, "/etc/rc.conf");
    sn->rc_read = ptc_exists(rc_open);
    free(rc_open);
    if (prev && prev->rc_read && !sn->rc_read) {
        snprintf(why, whylen, "cannot read %s: it is gone", sn->cfg.rc_path);
        goto fail;
    }
    base = ptc_cfg_path(&sn->cfg, ptc_cfg_base_dir(&sn->cfg));
    sn->base_real = realpath(base, NULL);
    if (!sn->base_real) {
        snprintf(why, whylen, "base directory %s: %s", base, strerror(errno));
        goto fail;
    }
    sn->base_len = strlen(sn->base_real);
    sn->basefd = open(sn->base_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sn->basefd < 0) {
        snprintf(why, whylen, "base directory %s: %s", sn->base_real, strerror(errno));
        goto fail;
    }
    if (pick_allow(s, sn, prev, why, whylen) != 0) goto fail;
    sn->phone_db = s->phone_db_opt ? ptc_xstrdup(s->phone_db_opt) : ptc_cfg_path(&sn->cfg, DEFAULT_PHONE_DB);
    if (load_macs(sn, why, whylen) != 0) goto fail;
    /* The bytecode cache is never under the base by default, but a user may
     * put it there: then it is hidden like templates/. */
    cache = ptc_cache_default_dir();
    cache_real = cache ? realpath(cache, NULL) : NULL;
    if (cache_real && strncmp(cache_real, sn->base_real, sn->base_len) == 0 &&
        cache_real[sn->base_len] == '/')
        sn->cache_rel = ptc_xstrdup(cache_real + sn->base_len + 1);
    ok = 1;
fail:
    free(base);
    free(cache);
    free(cache_real);
    if (devnull) fclose(devnull);
    if (!ok) {
        snap_free(sn);
        sn = NULL;
    }
    return sn;
}

/* ---- errors and warnings -------------------------------------------------- */

/* To stderr, which may be a pipe nobody drains: when it has no room the
 * line is dropped rather than hold the thread that says it (libmicrohttpd's
 * own threads log through here). */
static void say(const char *sev, const char *fmt, ...)
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
    say("warning", "libmicrohttpd: %s", msg);
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

static void log_request(req *r, int status, uint64_t bytes)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ptc_buf path = PTC_BUF_INIT, ua = PTC_BUF_INIT;
    ptc_serve_log_escape(&path, r->url);
    ptc_serve_log_escape(&ua, r->ua ? r->ua : "");
    ptc_serve_log_line(r->s->log, "%s %s %s %s %d %llu mac=%s ua=\"%s\"%s%s%s%s",
                       when, r->addr, r->method, ptc_buf_cstr(&path), status,
                       (unsigned long long)bytes, r->mac[0] ? r->mac : "-", ptc_buf_cstr(&ua),
                       r->why ? " refused=\"" : "", r->why ? r->why : "", r->why ? "\"" : "",
                       r->note ? r->note : "");
    ptc_buf_free(&path);
    ptc_buf_free(&ua);
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

/* Opens rel below the base.  The fast path refuses every symlink; on ELOOP
 * we open again allowing symlinks that stay beneath the base, and return
 * the target (relative to the base) in *target so the rules can be checked
 * on it too.  -1 with *why (errno kept) on failure. */
static int open_beneath(const snap *sn, const char *rel, char **target, const char **why)
{
    int fd;
    *target = NULL;
#ifdef HAVE_OPENAT2
    /* Set once the kernel (or valgrind, or a seccomp filter) has said it
     * has no openat2, so each request does not ask again. */
    static _Atomic int no_openat2;
    if (no_openat2) goto fallback;
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* O_NONBLOCK: a FIFO in the tree must not hang a thread in open(). */
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    fd = (int)syscall(SYS_openat2, sn->basefd, rel, &how, sizeof how);
    if (fd >= 0) return fd;
    if (errno == ELOOP) {
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, sn->basefd, rel, &how, sizeof how);
        if (fd < 0) {
            *why = errno == EXDEV ? "symlink leads out of the base directory" : "symlink loop";
            return -1;
        }
        char link[64], real[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, real, sizeof real - 1);
        if (n <= 0 || (size_t)n <= sn->base_len || strncmp(real, sn->base_real, sn->base_len) != 0 ||
            real[sn->base_len] != '/') {
            close(fd);
            *why = "symlink leads out of the base directory";
            errno = EXDEV;
            return -1;
        }
        real[n] = '\0';
        *target = ptc_xstrdup(real + sn->base_len + 1);
        return fd;
    }
    if (errno == EXDEV) { *why = "leads out of the base directory"; return -1; }
    if (errno != ENOSYS && errno != EPERM) { *why = strerror(errno); return -1; }
    if (errno == ENOSYS) no_openat2 = 1;
fallback:
#endif
    /* No openat2 (kernel before 5.6, or a seccomp filter): resolve by hand
     * and check the result is still beneath the base. */
    ptc_buf p = PTC_BUF_INIT;
    ptc_buf_printf(&p, "%s/%s", sn->base_real, rel);
    char *real = realpath(ptc_buf_cstr(&p), NULL);
    ptc_buf_free(&p);
    if (!real) { *why = strerror(errno); return -1; }
    if (strncmp(real, sn->base_real, sn->base_len) != 0 || real[sn->base_len] != '/') {
        free(real);
        *why = "symlink leads out of the base directory";
        errno = EXDEV;
        return -1;
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) { *why = strerror(errno); free(real); return -1; }
    if (strcmp(real + sn->base_len + 1, rel) != 0) *target = ptc_xstrdup(real + sn->base_len + 1);
    free(real);
    return fd;
}

static int in_cache_dir(const snap *sn, const char *rel)
{
    if (!sn->cache_rel) return 0;
    size_t n = strlen(sn->cache_rel);
    return strncmp(rel, sn->cache_rel, n) == 0 && (rel[n] == '/' || rel[n] == '\0');
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
    *has_f = path_phone_mac(sn, rel, fmac) || (target && path_phone_mac(sn, target, fmac));
    int has_u = ptc_serve_ua_mac(r->ua, umac);
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

static enum MHD_Result serve_file(req *r, const snap *sn)
{
    const char *rel = NULL, *why = NULL;
    char *target = NULL;
    int fd = -1;
    enum MHD_Result ret;
    int cls = ptc_serve_path_check(r->url, &rel, &why);
    if (cls == PTC_SERVE_PATH_MALFORMED) { ret = respond_error(r, 400, why); goto done; }
    if (cls != PTC_SERVE_PATH_OK) { ret = respond_error(r, 404, why); goto done; }
    if (in_cache_dir(sn, rel)) { ret = respond_error(r, 404, "bytecode cache"); goto done; }
    fd = open_beneath(sn, rel, &target, &why);
    if (fd < 0) { ret = respond_error(r, 404, why); goto done; }
    if (target) {
        const char *w2;
        if (ptc_serve_rel_check(target, &w2) != PTC_SERVE_PATH_OK || in_cache_dir(sn, target)) {
            ret = respond_error(r, 404, "symlink to a file that is never served");
            goto done;
        }
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ret = respond_error(r, 404, "not a regular file (directory listings are off)");
        goto done;
    }

    int has_f = 0;
    const char *refusal = mac_refusal(r, sn, rel, target, &has_f);
    if (refusal) { ret = respond_error(r, 404, refusal); goto done; }

    char etag[80], lastmod[64];
    int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (unsigned long long)mtime_ns);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(lastmod, sizeof lastmod, "%a, %d %b %Y %H:%M:%S GMT", &tm);

    int not_modified = is_not_modified(r, etag, st.st_mtim.tv_sec);

    struct MHD_Response *resp;
    int status;
    uint64_t bytes = 0;
    if (not_modified) {
        status = 304;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        status = 200;
        resp = MHD_create_response_from_fd_at_offset64((uint64_t)st.st_size, fd, 0);
        if (resp) {
            fd = -1;            /* the response owns it now */
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    ptc_serve_content_type(target ? target : rel));
            if (strcmp(r->method, "HEAD") != 0) bytes = (uint64_t)st.st_size;
        }
    }
    if (!resp) { ret = respond_error(r, 500, "out of memory"); goto done; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
    /* Passwords inside: no shared cache may keep a copy. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    ret = respond(r, status, resp, bytes);

    /* A HEAD delivers nothing: only a GET counts as the phone having the file. */
    if (r->s->audit && r->mac[0] && strcmp(r->method, "GET") == 0 &&
        (has_f || known_mac(sn, ptc_serve_mac_value(r->mac))))
        record_fetch(r, target ? target : rel, status, bytes, mtime_ns);
done:
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
    req r;
    memset(&r, 0, sizeof r);
    r.s = cls;
    r.c = c;
    r.url = url;
    r.method = method;
    r.ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
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

static int make_listener(const char *spec, listener *l, char *why, size_t whylen)
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

static int listener_is_loopback(const listener *l)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) != 0) return 0;
    return ptc_serve_addr_is_loopback((struct sockaddr *)&ss);
}

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
    OPT(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
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
        snprintf(why, whylen, "cannot start the %s server on %s%s", l->tls ? "HTTPS" : "HTTP", l->text,
                 l->tls ? " (check --cert and --key)" : "");
        return -1;
    }
    l->fd = -1;                 /* MHD closes it at stop */
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
        say("error", "%s (kept in memory, retrying)", why);
        s->audit_err_at = now;
    }
}

static int do_reload(ptc_serve *s, int reopen_log, const char *what)
{
    char why[768];
    snap *sn = snap_build(s, s->cur, why, sizeof why);
    if (!sn) {
        say("error", "%s failed, keeping the old configuration: %s", what, why);
        return -1;
    }
    if (ptc_serve_allow_is_open(sn->allow) && s->beyond_loopback)
        say("warning", "PHONEPROV_ALLOW is empty: every address may fetch provisioning files "
            "(and the passwords in them)");
    size_t nmacs = sn->nmacs;
    pthread_rwlock_wrlock(&s->lock);
    snap *old = s->cur;
    s->cur = sn;
    pthread_rwlock_unlock(&s->lock);
    snap_free(old);
    if (reopen_log && ptc_serve_log_reopen(s->log) != 0)
        say("error", "cannot reopen the access log: %s", strerror(errno));
    say("note", "%s done: %zu phone%s, allowlist %s", what, nmacs, nmacs == 1 ? "" : "s",
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
    char *db = ptc_xstrdup(s->cur->phone_db);
    pthread_rwlock_unlock(&s->lock);
    if (!ptc_commit_pending(db)) {
        s->commit_pending = 0;
        s->commit_err_said = 0;
        free(db);
        return;
    }
    s->commit_pending = 1;
    FILE *devnull = diag ? NULL : fopen("/dev/null", "w");
    ptc_diag quiet;
    ptc_diag_init(&quiet, devnull ? devnull : stderr);
    int rc = ptc_commit_finish(db, diag ? diag : &quiet);
    if (devnull) fclose(devnull);
    if (rc == 0) {
        say("note", "finished a run interrupted after its commit point (%s)", db);
        s->commit_pending = 0;
        s->commit_err_said = 0;
        do_reload(s, 0, "after finishing the interrupted run: reload");
    } else if (rc < 0 && !s->commit_err_said) {
        s->commit_err_said = 1;         /* once, not every second */
        say("error", "a run was interrupted after its commit point and cannot be finished here "
            "(run `ptc recover` or `ptc run`): answering 503 until it is");
    }
    free(db);
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
        say("warning", "last minute: %llu connection%s off the allowlist refused, %llu closed for a late "
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
        struct timespec was = s->cur->phone_db_mtime;
        struct timespec now = db_mtime(s->cur->phone_db);
        pthread_rwlock_unlock(&s->lock);
        /* A reload that failed is not retried (and logged) every second,
         * only when the table changes again. */
        if ((now.tv_sec != was.tv_sec || now.tv_nsec != was.tv_nsec) &&
            (now.tv_sec != s->watch_failed.tv_sec || now.tv_nsec != s->watch_failed.tv_nsec) &&
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
    if (s->allow_cli && is_blank(s->allow_cli)) {
        snprintf(why, sizeof why, "--allow is empty: name the addresses allowed (or '*' for every address)");
        goto fail;
    }

    s->cur = snap_build(s, NULL, why, sizeof why);
    if (!s->cur) goto fail;
    check_commit(s, diag);
    s->log = ptc_serve_log_open(o->access_log);
    if (!s->log) {
        snprintf(why, sizeof why, "cannot open access log %s: %s", o->access_log, strerror(errno));
        goto fail;
    }
    if (!o->audit_db || strcmp(o->audit_db, "off") != 0) {
        char *path = o->audit_db ? ptc_xstrdup(o->audit_db)
                                 : ptc_cfg_path(&s->cur->cfg, ptc_cfg_get_or(&s->cur->cfg, "PHONEPROV_AUDIT_DB",
                                                                             DEFAULT_AUDIT_DB));
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
        if (make_listener(spec, &s->ls[i], why, sizeof why) != 0) goto fail;
        s->nls++;
        s->ls[i].tls = i >= nplain;
        if (!listener_is_loopback(&s->ls[i])) s->beyond_loopback = 1;
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
                       s->ls[i].tls ? "https" : "http", s->ls[i].text, s->cur->base_real,
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
    return s && i < s->nls ? s->ls[i].port : -1;
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
        if (s->ls[i].fd >= 0) close(s->ls[i].fd);
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
    ptc_serve_log_close(s->log);
    ptc_serve_guard_free(s->guard);
    for (size_t i = 0; i < s->nserver_names; i++) free(s->server_names[i]);
    free(s->server_names);
    snap_free(s->cur);
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

/* ---- the command ---------------------------------------------------------- */

static void serve_usage(FILE *f)
{
    fputs("Usage: ptc serve [options]\n"
          "Serves PHONEPROV_BASE_DIR (default /mnt/kd/phoneprov) under /phoneprov/ (docs/serve.md).\n"
          "\n"
          "  --listen ADDR:PORT      plain HTTP listener (repeatable; default *:8080;\n"
          "                          [::1]:8080 for IPv6, *:PORT for every address)\n"
          "  --tls-listen ADDR:PORT  HTTPS listener (repeatable; needs --cert and --key)\n"
          "  --cert FILE, --key FILE PEM certificate (chain) and private key\n"
          "  --tls-priorities STR    gnutls priority string (default NORMAL)\n"
          "  --root DIR              take every default path under DIR\n"
          "  --rc FILE               rc.conf to read (default /etc/rc.conf under --root)\n"
          "  --allow SPEC            allowed clients (repeatable; default PHONEPROV_ALLOW):\n"
          "                          10.1.2.* 2001:db8:1:* 192.168.101.20 10.10.50.0/24\n"
          "  --mac-check MODE        off|warn|enforce|strict (default enforce): refuse a\n"
          "                          phone's file to a User-Agent naming another MAC\n"
          "  --access-log FILE       one line a request (default - = stderr; off)\n"
          "  --audit-db FILE         SQLite fetch audit (default /mnt/kd/phoneprov-audit.sqlite3; off)\n"
          "  --db FILE               phone table (default /mnt/kd/asterisk-odbc.sqlite3)\n"
          "  --threads N             worker threads per listener (default: CPUs, at least 2)\n"
          "  --max-conns N           connections per listener (default 1000)\n"
          "  --max-per-ip N          connections per client address (default 64)\n"
          "  --timeout SEC           idle timeout, and the time a client has to send a\n"
          "                          whole request head, TLS handshake included (default 15)\n"
          "  --miss-budget N|off     404s an address may get per minute before it is\n"
          "                          refused (429) until its budget refills (default 30)\n"
          "  --server-name NAME      serve only requests for this Host (repeatable;\n"
          "                          others get 421): a guard against DNS rebinding\n"
          "  --help                  this text\n"
          "\n"
          "Signals: SIGHUP reloads rc.conf, the allowlist and the phone table and reopens\n"
          "the access log; SIGTERM and SIGINT stop cleanly.\n", f);
}

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v == 0 || v > 1000000) return -1;
    *out = (unsigned)v;
    return 0;
}

/* The value of an option that takes one (B miss budget, M mac check, T
 * threads, C connections, I per address, O timeout); 0, or -1 after saying
 * why. */
static int serve_value(int which, const char *v, ptc_serve_opts *o)
{
    if (which == 'M') {
        static const char *const modes[] = {"off", "warn", "enforce", "strict"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, modes[i])) { o->mac_check = PTC_SERVE_MAC_OFF + i; return 0; }
        fprintf(stderr, "ptc serve: --mac-check takes off, warn, enforce or strict\n");
        return -1;
    }
    if (which == 'B' && strcmp(v, "off") == 0) { o->miss_budget = PTC_SERVE_MISS_OFF; return 0; }
    unsigned *dst = which == 'B' ? &o->miss_budget : which == 'T' ? &o->threads : which == 'C' ? &o->max_conns
                  : which == 'I' ? &o->max_per_ip : &o->timeout;
    if (parse_uint(v, dst) == 0) return 0;
    fprintf(stderr, "ptc serve: --%s wants a positive number%s\n",
            which == 'B' ? "miss-budget" : which == 'T' ? "threads" : which == 'C' ? "max-conns"
            : which == 'I' ? "max-per-ip" : "timeout", which == 'B' ? " or off" : "");
    return -1;
}

/* Runs the server until SIGTERM or SIGINT; SIGHUP reloads.  The exit status. */
static int serve_until_signal(const ptc_serve_opts *o, ptc_diag *diag)
{
    ptc_serve *s = NULL;
    /* Signals are taken by this thread with sigwait: block them before any
     * thread starts, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ptc_serve_start(o, &s, diag) != 0) return PTC_EXIT_ERROR;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) { ptc_serve_reload(s); continue; }
        say("note", "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    ptc_serve_stop(s);
    return PTC_EXIT_OK;
}

int ptc_cmd_serve(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_TLS_LISTEN, O_CERT, O_KEY, O_PRIO, O_ROOT, O_RC, O_ALLOW, O_MAC,
           O_ACCESS, O_AUDIT, O_DB, O_THREADS, O_MAXC, O_MAXIP, O_TIMEOUT, O_MISS, O_NAME, O_HELP };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN}, {"tls-listen", required_argument, NULL, O_TLS_LISTEN},
        {"cert", required_argument, NULL, O_CERT}, {"key", required_argument, NULL, O_KEY},
        {"tls-priorities", required_argument, NULL, O_PRIO}, {"root", required_argument, NULL, O_ROOT},
        {"rc", required_argument, NULL, O_RC}, {"allow", required_argument, NULL, O_ALLOW},
        {"mac-check", required_argument, NULL, O_MAC}, {"access-log", required_argument, NULL, O_ACCESS},
        {"audit-db", required_argument, NULL, O_AUDIT}, {"db", required_argument, NULL, O_DB},
        {"threads", required_argument, NULL, O_THREADS}, {"max-conns", required_argument, NULL, O_MAXC},
        {"max-per-ip", required_argument, NULL, O_MAXIP}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"miss-budget", required_argument, NULL, O_MISS}, {"server-name", required_argument, NULL, O_NAME},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0},
    };
    ptc_serve_opts o;
    memset(&o, 0, sizeof o);
    o.mac_check = PTC_SERVE_MAC_ENFORCE;
    const char **listen = ptc_xcalloc((size_t)argc + 1, sizeof *listen);
    const char **tls = ptc_xcalloc((size_t)argc + 1, sizeof *tls);
    const char **allow = ptc_xcalloc((size_t)argc + 1, sizeof *allow);
    const char **names = ptc_xcalloc((size_t)argc + 1, sizeof *names);
    o.server_names = names;
    o.listen = listen;
    o.tls_listen = tls;
    o.allow = allow;
    int rc = PTC_EXIT_USAGE, opt;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case O_LISTEN: listen[o.nlisten++] = optarg; break;
        case O_TLS_LISTEN: tls[o.ntls_listen++] = optarg; break;
        case O_CERT: o.cert_file = optarg; break;
        case O_KEY: o.key_file = optarg; break;
        case O_PRIO: o.tls_priorities = optarg; break;
        case O_ROOT: o.root = optarg; break;
        case O_RC: o.rc_file = optarg; break;
        case O_ALLOW: allow[o.nallow++] = optarg; break;
        case O_NAME: names[o.nserver_names++] = optarg; break;
        case O_ACCESS: o.access_log = optarg; break;
        case O_AUDIT: o.audit_db = optarg; break;
        case O_DB: o.phone_db = optarg; break;
        case O_MISS: case O_MAC: case O_THREADS: case O_MAXC: case O_MAXIP: case O_TIMEOUT:
            if (serve_value(opt == O_MISS ? 'B' : opt == O_MAC ? 'M' : opt == O_THREADS ? 'T'
                            : opt == O_MAXC ? 'C' : opt == O_MAXIP ? 'I' : 'O', optarg, &o) != 0)
                goto done;
            break;
        case O_HELP: serve_usage(stdout); rc = PTC_EXIT_OK; goto done;
        default:
            fprintf(stderr, "ptc serve: bad option '%s'\n", argv[optind - 1]);
            serve_usage(stderr);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ptc serve: unexpected argument '%s'\n", argv[optind]);
        goto done;
    }
    if (o.ntls_listen && (!o.cert_file || !o.key_file)) {
        fprintf(stderr, "ptc serve: --tls-listen needs --cert and --key\n");
        goto done;
    }
    if (o.access_log == NULL) o.access_log = "-";

    rc = serve_until_signal(&o, &diag);
done:
    free(listen);
    free(tls);
    free(allow);
    free(names);
    return rc;
}
