/* ptc status: options, then ptc_status_read and one line per phone. */
#include "ptc/status.h"
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/sql.h"
#include "ptc/fsutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void status_usage(FILE *f)
{
    fputs("Usage: ptc status [--root DIR] [--rc FILE] [--db FILE|URL] [--audit-db FILE|URL] [--check]\n"
          "Lists every phone of the phoneprov table with its last provisioning fetch\n"
          "(from `ptc serve`'s audit), the client address and the firmware, and flags\n"
          "phones that never fetched or whose files changed since they fetched them.\n"
          "\n"
          "  --root DIR       take every default path under DIR\n"
          "  --rc FILE        rc.conf to read (default /etc/rc.conf under --root)\n"
          "  --db FILE|URL    phone table (default " PTC_DEFAULT_PHONE_DB "), or a\n"
          "                   PostgreSQL connection string (postgresql://USER@HOST/DB)\n"
          "  --audit-db FILE|URL  fetch audit (default " PTC_DEFAULT_AUDIT_DB ")\n"
          "  --check          exit 3 when a phone never fetched or is stale\n"
          "  --help           this text\n"
          "\n"
          "Exit status: 0, or 1 on errors (3 with --check, see above).\n", f);
}

typedef struct status_args {
    const char *root, *rc_file, *db, *audit;
    int check;
} status_args;

/* PTC_EXIT_OK to go on, else the exit status (--help, a bad option). */
static int parse_args(int argc, char **argv, status_args *a)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'}, {"rc", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'}, {"audit-db", required_argument, NULL, 'a'},
        {"check", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': a->root = optarg; break;
        case 'c': a->rc_file = optarg; break;
        case 'd': a->db = optarg; break;
        case 'a': a->audit = optarg; break;
        case 'k': a->check = 1; break;
        case 'h': status_usage(stdout); return -1;
        default:
            fprintf(stderr, "ptc status: bad option '%s'\n", argv[optind - 1]);
            status_usage(stderr);
            return PTC_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ptc status: unexpected argument '%s'\n", argv[optind]);
        return PTC_EXIT_USAGE;
    }
    return PTC_EXIT_OK;
}

/* The server's counters, one line, when any. */
static void print_serve_stats(const ptc_status *s)
{
    static const struct { int stat; const char *label; } shown[] = {
        {PTC_SERVE_STAT_MISSES, "misses (404)"}, {PTC_SERVE_STAT_THROTTLED, "throttled (miss budget spent)"},
        {PTC_SERVE_STAT_DENIED, "connections off the allowlist"},
        {PTC_SERVE_STAT_HEAD_TIMEOUTS, "late request heads"},
        {PTC_SERVE_STAT_LOG_DROPPED, "access log lines dropped"},
        {PTC_SERVE_STAT_AUDIT_DROPPED, "audit entries dropped"},
    };
    ptc_buf line = PTC_BUF_INIT;
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        long long v = s->serve_stat[shown[i].stat];
        if (v) ptc_buf_printf(&line, "%s%lld %s", line.len ? ", " : "", v, shown[i].label);
    }
    if (line.len) printf("ptc serve so far: %s\n", ptc_buf_cstr(&line));
    ptc_buf_free(&line);
}

static void print_phone(const ptc_status_phone *p)
{
    const ptc_db_phone *ph = &p->ph;
    const ptc_fetch_state *st = &p->fetch;
    ptc_buf model = PTC_BUF_INIT;
    ptc_buf_printf(&model, "%s%s%s%s", ph->model, ph->vendor[0] ? " (" : "", ph->vendor, ph->vendor[0] ? ")" : "");
    char when[32] = "-";
    if (st->fetched) {
        time_t t = (time_t)st->when;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    }
    static const char *const state[] = {"ok", "NEVER fetched", "STALE: "};
    printf("%-17s %-10s %-24s %-20s %-15s %-12s %s%s\n", ph->mac_text,
           ph->exts.len ? ph->exts.data : "-", ptc_buf_cstr(&model), when, st->addr, st->firmware,
           state[p->state], st->stale.len ? st->stale.data : "");
    ptc_buf_free(&model);
}

static void print_status(const ptc_status *s)
{
    if (s->commit_pending)
        fprintf(stderr, "ptc status: warning: a run stopped after its commit point: the files may be half "
                "old and half new until `ptc run` (or `ptc serve`) finishes it\n");
    printf("%-17s %-10s %-24s %-20s %-15s %-12s %s\n", "MAC", "EXT", "MODEL", "LAST FETCH (UTC)",
           "ADDRESS", "FIRMWARE", "STATE");
    for (size_t i = 0; i < s->n; i++) print_phone(&s->v[i]);
    printf("%zu phone%s: %u up to date, %u never fetched, %u stale\n", s->n, s->n == 1 ? "" : "s",
           s->count[PTC_STATUS_OK], s->count[PTC_STATUS_NEVER], s->count[PTC_STATUS_STALE]);
    print_serve_stats(s);
}

int ptc_cmd_status(int argc, char **argv)
{
    status_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == PTC_EXIT_OK && (ptc_cmd_check_db("status", "--db", a.db) != 0 ||
                              ptc_cmd_check_db("status", "--audit-db", a.audit) != 0))
        rc = PTC_EXIT_USAGE;
    if (rc != PTC_EXIT_OK) return rc < 0 ? PTC_EXIT_OK : rc;
    ptc_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    ptc_status s;
    memset(&s, 0, sizeof s);
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    rc = PTC_EXIT_ERROR;
    if (ptc_cfg_load(&cfg, a.root, a.rc_file, &diag) != 0) goto done;
    ptc_status_opts o = {ptc_cfg_phone_db(&cfg, a.db), ptc_cfg_audit_db(&cfg, a.audit), NULL,
                         ptc_cfg_path(&cfg, ptc_cfg_base_dir(&cfg))};
    o.state_dir = ptc_commit_state_dir(&cfg, o.phone_db);
    if (!ptc_sql_is_pg(o.phone_db) && !ptc_exists(o.phone_db))
        fprintf(stderr, "ptc status: error: phone table %s: no such file\n", o.phone_db);
    else if (ptc_status_read(&o, &s, &diag) == 0) {
        if (!s.have_audit)
            fprintf(stderr, "ptc status: note: no audit database %s yet: no fetch recorded\n", o.audit_db);
        print_status(&s);
        /* 3, as `ptc run` uses it: the run worked, something needs a person. */
        rc = a.check && (s.count[PTC_STATUS_NEVER] || s.count[PTC_STATUS_STALE] || s.commit_pending)
           ? 3 : PTC_EXIT_OK;
    }
    free((char *)o.phone_db);
    free((char *)o.audit_db);
    free((char *)o.base);
    free((char *)o.state_dir);
done:
    ptc_status_free(&s);
    ptc_cfg_free(&cfg);
    return rc;
}
