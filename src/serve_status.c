/* `ptc status`: every phone of the phoneprov table with its last fetch.
 *
 * The phone table has a row per line of a phone; we group by MAC (as
 * written, any case or separator).  For each phone the audit database
 * (written by `ptc serve`) gives the last fetch, the address and the
 * firmware from the User-Agent.  A phone is flagged
 *   never   no fetch recorded
 *   stale   a file it fetched has changed since (mtime now > mtime then),
 *           or is gone: the phone has not picked up its new configuration. */
#include "ptc/serve.h"
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"
#include "ptc/fsutil.h"
#include "ptc/commit.h"
#include "ptc/map.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct phone {
    char mac[13];
    char *mac_text;             /* as the table writes it */
    ptc_buf exts;
    char *model, *vendor;
} phone;

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return ptc_xstrdup(v ? v : "");
}

/* Reads the phones, one per MAC, in table order.  -1 with a message. */
static int read_phones(const char *path, phone **out, size_t *n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    *out = NULL;
    *n = 0;
    if (!ptc_exists(path)) {
        fprintf(stderr, "ptc status: error: phone table %s: no such file\n", path);
        goto done;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT mac_addr, ext, model, vendor FROM phoneprov ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "ptc status: error: phone table %s: %s\n", path,
                db ? sqlite3_errmsg(db) : "cannot open");
        goto done;
    }
    sqlite3_busy_timeout(db, 2000);
    int step;
    size_t cap = 0;
    ptc_map by_mac = {0};       /* MAC value + 1 -> index + 1: exact, no collision */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char mac[13];
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (!ptc_serve_mac_norm(m, mac)) continue;
        int fresh = 0;
        uint32_t *slot = ptc_map_put(&by_mac, ptc_serve_mac_value(mac) + 1, &fresh);
        if (fresh) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                *out = ptc_xrealloc(*out, cap * sizeof **out);
            }
            phone *p = &(*out)[(*n)++];
            memset(p, 0, sizeof *p);
            memcpy(p->mac, mac, 13);
            p->mac_text = col_dup(st, 0);
            p->model = col_dup(st, 2);
            p->vendor = col_dup(st, 3);
            *slot = (uint32_t)*n;
        }
        phone *p = &(*out)[*slot - 1];
        const char *ext = (const char *)sqlite3_column_text(st, 1);
        if (ext && *ext) {
            if (p->exts.len) ptc_buf_putc(&p->exts, ',');
            ptc_buf_puts(&p->exts, ext);
        }
    }
    ptc_map_free(&by_mac);
    if (step != SQLITE_DONE) {
        fprintf(stderr, "ptc status: error: phone table %s: %s\n", path, sqlite3_errmsg(db));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static void phones_free(phone *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].mac_text);
        free(p[i].model);
        free(p[i].vendor);
        ptc_buf_free(&p[i].exts);
    }
    free(p);
}

/* The server's counters (phoneprov_serve_stats), one line, when any. */
static void print_serve_stats(sqlite3 *adb)
{
    static const char *const names[][2] = {
        {"misses", "misses (404)"}, {"throttled", "throttled (miss budget spent)"},
        {"denied", "connections off the allowlist"}, {"head_timeouts", "late request heads"},
        {"log_dropped", "access log lines dropped"}, {"audit_dropped", "audit entries dropped"},
    };
    sqlite3_stmt *st = NULL;
    if (!adb || sqlite3_prepare_v2(adb, "SELECT value FROM phoneprov_serve_stats WHERE name = ?1",
                                   -1, &st, NULL) != SQLITE_OK)
        return;
    ptc_buf line = PTC_BUF_INIT;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, names[i][0], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) == 0) continue;
        ptc_buf_printf(&line, "%s%lld %s", line.len ? ", " : "", (long long)sqlite3_column_int64(st, 0),
                       names[i][1]);
    }
    if (line.len) printf("ptc serve so far: %s\n", ptc_buf_cstr(&line));
    ptc_buf_free(&line);
    sqlite3_finalize(st);
}

static void status_usage(FILE *f)
{
    fputs("Usage: ptc status [--root DIR] [--rc FILE] [--db FILE] [--audit-db FILE] [--check]\n"
          "Lists every phone of the phoneprov table with its last provisioning fetch\n"
          "(from `ptc serve`'s audit), the client address and the firmware, and flags\n"
          "phones that never fetched or whose files changed since they fetched them.\n"
          "\n"
          "  --root DIR       take every default path under DIR\n"
          "  --rc FILE        rc.conf to read (default /etc/rc.conf under --root)\n"
          "  --db FILE        phone table (default /mnt/kd/asterisk-odbc.sqlite3)\n"
          "  --audit-db FILE  fetch audit (default /mnt/kd/phoneprov-audit.sqlite3)\n"
          "  --check          exit 3 when a phone never fetched or is stale\n"
          "  --help           this text\n"
          "\n"
          "Exit status: 0, or 1 on errors (3 with --check, see above).\n", f);
}

int ptc_cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'}, {"rc", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'}, {"audit-db", required_argument, NULL, 'a'},
        {"check", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int check = 0;
    const char *root = NULL, *rc_file = NULL, *db_opt = NULL, *audit_opt = NULL;
    int rc = PTC_EXIT_USAGE, opt;
    ptc_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    char *db_path = NULL, *audit_path = NULL, *base = NULL;
    phone *phones = NULL;
    size_t nphones = 0;
    sqlite3 *adb = NULL;
    sqlite3_stmt *st = NULL;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': root = optarg; break;
        case 'c': rc_file = optarg; break;
        case 'd': db_opt = optarg; break;
        case 'a': audit_opt = optarg; break;
        case 'k': check = 1; break;
        case 'h': status_usage(stdout); rc = PTC_EXIT_OK; goto done;
        default:
            fprintf(stderr, "ptc status: bad option '%s'\n", argv[optind - 1]);
            status_usage(stderr);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ptc status: unexpected argument '%s'\n", argv[optind]);
        goto done;
    }
    rc = PTC_EXIT_ERROR;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    if (ptc_cfg_load(&cfg, root, rc_file, &diag) != 0) goto done;
    db_path = db_opt ? ptc_xstrdup(db_opt) : ptc_cfg_path(&cfg, "/mnt/kd/asterisk-odbc.sqlite3");
    audit_path = audit_opt ? ptc_xstrdup(audit_opt)
                           : ptc_cfg_path(&cfg, ptc_cfg_get_or(&cfg, "PHONEPROV_AUDIT_DB",
                                                               "/mnt/kd/phoneprov-audit.sqlite3"));
    base = ptc_cfg_path(&cfg, ptc_cfg_base_dir(&cfg));
    if (read_phones(db_path, &phones, &nphones) != 0) goto done;
    int pending = ptc_commit_pending(db_path);
    if (pending)
        fprintf(stderr, "ptc status: warning: a run stopped after its commit point: the files may be half "
                "old and half new until `ptc run` (or `ptc serve`) finishes it\n");
    if (!ptc_exists(audit_path)) {
        fprintf(stderr, "ptc status: note: no audit database %s yet: no fetch recorded\n", audit_path);
    } else if (sqlite3_open_v2(audit_path, &adb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
               sqlite3_prepare_v2(adb, "SELECT path, fetched_at, client_addr, firmware, file_mtime_ns "
                                  "FROM phoneprov_fetch WHERE mac_addr = ?1 ORDER BY fetched_at DESC, path",
                                  -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "ptc status: error: audit database %s: %s\n", audit_path,
                adb ? sqlite3_errmsg(adb) : "cannot open");
        goto done;
    }
    if (adb) sqlite3_busy_timeout(adb, 2000);

    unsigned n_ok = 0, n_never = 0, n_stale = 0;
    printf("%-17s %-10s %-24s %-20s %-15s %-12s %s\n", "MAC", "EXT", "MODEL", "LAST FETCH (UTC)",
           "ADDRESS", "FIRMWARE", "STATE");
    for (size_t i = 0; i < nphones; i++) {
        phone *p = &phones[i];
        ptc_buf model = PTC_BUF_INIT, stale = PTC_BUF_INIT;
        char when[32] = "-", addr[64] = "-", fw[64] = "-";
        int fetched = 0;
        ptc_buf_printf(&model, "%s%s%s%s", p->model, p->vendor[0] ? " (" : "", p->vendor, p->vendor[0] ? ")" : "");
        if (st) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, p->mac, 12, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                const char *path = (const char *)sqlite3_column_text(st, 0);
                if (!fetched) {
                    time_t t = (time_t)sqlite3_column_int64(st, 1);
                    struct tm tm;
                    gmtime_r(&t, &tm);
                    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
                    const char *a = (const char *)sqlite3_column_text(st, 2);
                    const char *f = (const char *)sqlite3_column_text(st, 3);
                    snprintf(addr, sizeof addr, "%s", a && *a ? a : "-");
                    snprintf(fw, sizeof fw, "%s", f && *f ? f : "-");
                    fetched = 1;
                }
                int64_t then = sqlite3_column_int64(st, 4);
                ptc_buf full = PTC_BUF_INIT;
                ptc_buf_printf(&full, "%s/%s", base, path ? path : "");
                struct stat sb;
                const char *what = NULL;
                if (stat(ptc_buf_cstr(&full), &sb) != 0) what = " (gone)";
                else if ((int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec > then) what = "";
                if (what) ptc_buf_printf(&stale, "%s%s%s", stale.len ? ", " : "", path ? path : "?", what);
                ptc_buf_free(&full);
            }
        }
        const char *state;
        if (!fetched) { state = "NEVER fetched"; n_never++; }
        else if (stale.len) { state = "STALE: "; n_stale++; }
        else { state = "ok"; n_ok++; }
        printf("%-17s %-10s %-24s %-20s %-15s %-12s %s%s\n", p->mac_text,
               p->exts.len ? ptc_buf_cstr(&p->exts) : "-", ptc_buf_cstr(&model), when, addr, fw,
               state, stale.len ? ptc_buf_cstr(&stale) : "");
        ptc_buf_free(&model);
        ptc_buf_free(&stale);
    }
    printf("%zu phone%s: %u up to date, %u never fetched, %u stale\n", nphones, nphones == 1 ? "" : "s",
           n_ok, n_never, n_stale);
    print_serve_stats(adb);
    /* 3, as `ptc run` uses it: the run worked, something needs a person. */
    rc = check && (n_never || n_stale || pending) ? 3 : PTC_EXIT_OK;
done:
    sqlite3_finalize(st);
    sqlite3_close(adb);
    phones_free(phones, nphones);
    free(db_path);
    free(audit_path);
    free(base);
    ptc_cfg_free(&cfg);
    return rc;
}
