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
#include "ptc/db.h"
#include "ptc/map.h"

#include <errno.h>
#include <getopt.h>
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

typedef struct reading {
    phone *v;
    size_t n, cap;
    ptc_map by_mac;             /* MAC value + 1 -> index + 1: exact, no collision */
} reading;

/* One row of the phone table: a new phone, or another line of one. */
static int add_row(const ptc_db_row *row, void *ctx)
{
    reading *R = ctx;
    char mac[13];
    if (!ptc_serve_mac_norm(row->mac_addr, mac)) return 0;
    int fresh = 0;
    uint32_t *slot = ptc_map_put(&R->by_mac, ptc_serve_mac_value(mac) + 1, &fresh);
    if (fresh) {
        if (R->n == R->cap) {
            R->cap = R->cap ? R->cap * 2 : 64;
            R->v = ptc_xrealloc(R->v, R->cap * sizeof *R->v);
        }
        phone *p = &R->v[R->n++];
        memset(p, 0, sizeof *p);
        memcpy(p->mac, mac, 13);
        p->mac_text = ptc_xstrdup(row->mac_addr);
        p->model = ptc_xstrndup(row->model, (size_t)row->model_len);
        p->vendor = ptc_xstrndup(row->vendor, (size_t)row->vendor_len);
        *slot = (uint32_t)R->n;
    }
    phone *p = &R->v[*slot - 1];
    if (row->ext_len) {
        if (p->exts.len) ptc_buf_putc(&p->exts, ',');
        ptc_buf_put(&p->exts, row->ext, (size_t)row->ext_len);
    }
    return 0;
}

/* Reads the phones, one per MAC, in table order.  -1 with a message. */
static int read_phones(const char *path, phone **out, size_t *n)
{
    reading R;
    memset(&R, 0, sizeof R);
    *out = NULL;
    *n = 0;
    if (!ptc_exists(path)) {
        fprintf(stderr, "ptc status: error: phone table %s: no such file\n", path);
        return -1;
    }
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    int rc = ptc_db_read(path, add_row, &R, &diag);
    ptc_map_free(&R.by_mac);
    *out = R.v;
    *n = R.n;
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
static void print_serve_stats(ptc_audit_reader *adb)
{
    static const char *const names[][2] = {
        {"misses", "misses (404)"}, {"throttled", "throttled (miss budget spent)"},
        {"denied", "connections off the allowlist"}, {"head_timeouts", "late request heads"},
        {"log_dropped", "access log lines dropped"}, {"audit_dropped", "audit entries dropped"},
    };
    ptc_buf line = PTC_BUF_INIT;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        long long v = ptc_audit_reader_stat(adb, names[i][0]);
        if (v) ptc_buf_printf(&line, "%s%lld %s", line.len ? ", " : "", v, names[i][1]);
    }
    if (line.len) printf("ptc serve so far: %s\n", ptc_buf_cstr(&line));
    ptc_buf_free(&line);
}

/* One phone's line; the counts of its state. */
static void print_phone(phone *p, ptc_audit_reader *adb, const char *base, unsigned counts[3])
{
    ptc_fetch_state st = {0};
    ptc_audit_reader_phone(adb, base, p->mac, &st);
    ptc_buf model = PTC_BUF_INIT;
    ptc_buf_printf(&model, "%s%s%s%s", p->model, p->vendor[0] ? " (" : "", p->vendor, p->vendor[0] ? ")" : "");
    char when[32] = "-";
    if (st.fetched) {
        time_t t = (time_t)st.when;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    }
    const char *state;
    if (!st.fetched) { state = "NEVER fetched"; counts[1]++; }
    else if (st.stale.len) { state = "STALE: "; counts[2]++; }
    else { state = "ok"; counts[0]++; }
    printf("%-17s %-10s %-24s %-20s %-15s %-12s %s%s\n", p->mac_text,
           p->exts.len ? ptc_buf_cstr(&p->exts) : "-", ptc_buf_cstr(&model), when, st.addr, st.firmware,
           state, st.stale.len ? ptc_buf_cstr(&st.stale) : "");
    ptc_buf_free(&model);
    ptc_buf_free(&st.stale);
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
    ptc_audit_reader *adb = NULL;
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
    char why[512];
    if (!(adb = ptc_audit_reader_open(audit_path, why, sizeof why))) {
        if (errno != ENOENT) {
            fprintf(stderr, "ptc status: error: %s\n", why);
            goto done;
        }
        fprintf(stderr, "ptc status: note: no audit database %s yet: no fetch recorded\n", audit_path);
    }
    unsigned counts[3] = {0, 0, 0};    /* ok, never, stale */
    printf("%-17s %-10s %-24s %-20s %-15s %-12s %s\n", "MAC", "EXT", "MODEL", "LAST FETCH (UTC)",
           "ADDRESS", "FIRMWARE", "STATE");
    for (size_t i = 0; i < nphones; i++) print_phone(&phones[i], adb, base, counts);
    unsigned n_ok = counts[0], n_never = counts[1], n_stale = counts[2];
    printf("%zu phone%s: %u up to date, %u never fetched, %u stale\n", nphones, nphones == 1 ? "" : "s",
           n_ok, n_never, n_stale);
    print_serve_stats(adb);
    /* 3, as `ptc run` uses it: the run worked, something needs a person. */
    rc = check && (n_never || n_stale || pending) ? 3 : PTC_EXIT_OK;
done:
    ptc_audit_reader_close(adb);
    phones_free(phones, nphones);
    free(db_path);
    free(audit_path);
    free(base);
    ptc_cfg_free(&cfg);
    return rc;
}
