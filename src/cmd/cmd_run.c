/* ptc run: options, the SIP server address, -a/-A, -r/-R, the run lock. */
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/listedit.h"
#include "ptc/notify.h"
#include "ptc/run.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"
#include "ptc/rec.h"
#include "ptc/host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: ptc run [options...] massdeployment.conf\n"
    "\n"
    "Generates every provisioning file, Asterisk include file and the SQLite\n"
    "phoneprov table for a phone list, all or nothing.\n"
    "\n"
    "Options:\n"
    "  -a, --auto-pass         Automatically generate missing password(s)\n"
    "  -A, --only-pass         Same as \"-a, --auto-pass\" without further processing\n"
    "  -f, --force-overwrite   Overwrite existing files\n"
    "  -h, --help              Show this help text\n"
    "  -i, --if-name           Interface Name: INTIF, INT2IF, INT3IF, INT4IF, EXTIF, ethN, brN\n"
    "                                          Defaults to config variable PHONEPROV_GW_IF\n"
    "  -p, --partial           Partial input, append \"dialplan\" and \"sip\" entries to existing\n"
    "  -r, --auto-reload       Automatically reload Asterisk \"dialplan\" and \"sip\" on success\n"
    "  -R, --only-reload       Same as \"-r, --auto-reload\" without further processing\n"
    "      --root DIR          Read and write every default and template path under DIR\n"
    "      --rc FILE           Configuration file (default /etc/rc.conf)\n"
    "      --db FILE|URL       SQLite database (default /mnt/kd/asterisk-odbc.sqlite3), or a\n"
    "                          PostgreSQL connection string (postgresql://USER@HOST/DB)\n"
    "      --cache-dir DIR     Bytecode cache (default ~/.cache/ptc)\n"
    "      --notify            After a successful run (and -r), make the phones whose\n"
    "                          files changed fetch them (ptc notify --changed)\n"
    "      --audit-db FILE|URL ptc serve's fetch audit, for --notify (default\n"
    "                          PHONEPROV_AUDIT_DB or /mnt/kd/phoneprov-audit.sqlite3)\n"
    "  -n, --dry-run           Print what would be created, changed or left unchanged\n"
    "  -q, --quiet             Print errors only\n"
    "  -v, --verbose           Name every file written, and cache misses\n"
    "\n"
    "Exit status: 0 success, 1 error, 2 an output file exists (use -f),\n"
    "3 a password is missing (use -a).\n";

typedef struct {
    int auto_pass, only_pass, force, partial, reload, only_reload, dry_run, quiet, verbose, notify;
    const char *if_name, *root, *rc, *db, *audit, *cache_dir, *list;
} run_args;

static int parse_args(int argc, char **argv, run_args *a)
{
    static const struct option longs[] = {
        {"auto-pass", no_argument, NULL, 'a'}, {"only-pass", no_argument, NULL, 'A'},
        {"force-overwrite", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {"if-name", required_argument, NULL, 'i'}, {"partial", no_argument, NULL, 'p'},
        {"auto-reload", no_argument, NULL, 'r'}, {"only-reload", no_argument, NULL, 'R'},
        {"root", required_argument, NULL, 1}, {"rc", required_argument, NULL, 2},
        {"db", required_argument, NULL, 3}, {"cache-dir", required_argument, NULL, 4},
        {"dry-run", no_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'}, {"notify", no_argument, NULL, 5},
        {"audit-db", required_argument, NULL, 6}, {NULL, 0, NULL, 0}
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "aAfhi:prRnqv", longs, NULL)) != -1) {
        switch (c) {
        case 'a': a->auto_pass = 1; break;
        case 'A': a->auto_pass = a->only_pass = 1; break;
        case 'f': a->force = 1; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        case 'i': a->if_name = optarg; break;
        case 'p': a->partial = 1; break;
        case 'r': a->reload = 1; break;
        case 'R': a->reload = a->only_reload = 1; break;
        case 1: a->root = optarg; break;
        case 2: a->rc = optarg; break;
        case 3: a->db = optarg; break;
        case 4: a->cache_dir = optarg; break;
        case 5: a->notify = 1; break;
        case 6: a->audit = optarg; break;
        case 'n': a->dry_run = 1; break;
        case 'q': a->quiet = 1; break;
        case 'v': a->verbose = 1; break;
        default: fputs(usage_text, stderr); return -1;
        }
    }
    if (optind < argc) a->list = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "ptc run: one phone list only (got '%s' too)\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* ---- -a: missing passwords ------------------------------------------------ */

/* Inserts a password after the extension field of each line that lacks one;
 * every other byte of the file stays as it was, and so does its mode and
 * owner.  Returns how many were added, or -1 after reporting. */
static int auto_pass(const char *path, ptc_diag *diag)
{
    ptc_src *src = ptc_src_load(path, NULL);
    if (!src) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    src->redact = ptc_rec_redact;
    ptc_buf out = PTC_BUF_INIT;
    ptc_diag quiet;                     /* the run reports bad lines itself */
    ptc_diag_init_null(&quiet);
    uint32_t pos = 0, off, len, copied = 0;
    unsigned line = 0;
    int added = 0, rc = 0;
    ptc_rec r;
    while (ptc_rec_next_line(src, &pos, &off, &len, &line)) {
        ptc_rec_parse(src, off, len, line, &r, &quiet);
        if (!r.missing_password || r.extf.len == 0) continue;
        /* no password field: a new one after the extensions; a `;` list
         * whose first entry is empty (";pw2"): that entry */
        uint32_t at = r.passf.len ? r.passf.off : r.extf.off + r.extf.len;
        char pw[17];
        ptc_list_password(pw);
        ptc_buf_put(&out, src->text + copied, at - copied);
        ptc_buf_printf(&out, r.passf.len ? "%s" : " %s", pw);
        copied = at;
        added++;
    }
    if (added) {
        ptc_buf_put(&out, src->text + copied, src->len - copied);
        rc = ptc_list_rewrite(path, out.data, out.len, diag);
    }
    ptc_buf_free(&out);
    ptc_src_free(src);
    return rc ? rc : added;
}

/* ---- -r: reload ------------------------------------------------------------ */

static int reload(const ptc_cfg *cfg, int quiet, ptc_diag *diag)
{
    if (!quiet) printf("Auto-reloading Asterisk 'dialplan' and 'sip'.\n");
    fflush(stdout);
    ptc_host_reload_asterisk(cfg, diag);
    return 0;
}

/* ---- --notify ---------------------------------------------------------------- */

/* ptc notify --changed, in-process: the phones whose fetched files this run
 * (or an earlier one) changed.  0, or -1 when a notify failed. */
static int notify_changed(const ptc_cfg *cfg, const char *db, const char *audit_opt, ptc_diag *diag)
{
    ptc_notify_set set;
    if (ptc_notify_load(&set, db, diag) != 0) return -1;
    char *audit = ptc_cfg_audit_db(cfg, audit_opt);
    char *base = ptc_cfg_path(cfg, ptc_cfg_base_dir(cfg));
    ptc_notify_opts o = {.via = PTC_NOTIFY_CLI, .rate = 20, .out = stdout};
    int failed = 0;
    if (ptc_notify_select_changed(&set, audit, base, diag) && ptc_notify_choose(&set, &o, cfg, diag))
        failed = ptc_notify_send(&set, &o, diag);
    free(audit);
    free(base);
    ptc_notify_set_free(&set);
    return failed ? -1 : 0;
}

/* ---- the command ----------------------------------------------------------- */

/* Serialises runs: a second ptc run waits for the first instead of
 * interleaving (ptc_runlock_take: the state directory, so a run that is
 * refused leaves no file behind, and for a PostgreSQL table every host's
 * runs).  A directory it had to create is noted in *made, to be removed
 * again if the run writes nothing. */
static int take_lock(ptc_runlock *lock, const char *dir, const char *db, char **made, ptc_diag *diag)
{
    *made = NULL;
    if (!ptc_exists(dir)) {
        /* The topmost missing directory: what rmdir must take back. */
        char *top = ptc_xstrdup(dir), *up;
        while ((up = ptc_dirname(top)) && !ptc_exists(up) && strcmp(up, top) != 0) { free(top); top = up; }
        free(up);
        if (ptc_mkdirs(dir, 0755) == 0) *made = top;
        else free(top);
    }
    char who[256];
    return ptc_runlock_take(lock, dir, db, 0, who, sizeof who, diag) == 1 ? 0 : -1;
}

/* Removes the directories take_lock made, when they stayed empty. */
static void untake_dirs(const char *dir, char *made)
{
    if (!made) return;
    char *d = ptc_xstrdup(dir);
    while (rmdir(d) == 0 && strcmp(d, made) != 0) {
        char *up = ptc_dirname(d);
        free(d);
        d = up;
    }
    free(d);
    free(made);
}

/* ---- what ptc run prints while ptc_run works ------------------------------- */

typedef struct console {
    int quiet, verbose, dry_run, tty;
    FILE *out;
    struct timespec t0;
} console;

static void on_start(void *ctx, unsigned total)
{
    console *c = ctx;
    (void)total;
    if (!c->quiet) fputs("Generating Phone Provisioning files:\n", c->out);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
}

/* The original's dots, unless files are named; a live count on a terminal. */
static void on_progress(void *ctx, unsigned done, unsigned total)
{
    console *c = ctx;
    if (c->quiet) return;
    if (!c->tty) {
        if (!c->dry_run && !c->verbose) fputc('.', c->out);
        return;
    }
    if (done != total && done % 256) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = (double)(now.tv_sec - c->t0.tv_sec) + (double)(now.tv_nsec - c->t0.tv_nsec) / 1e9;
    fprintf(c->out, "\r  %u/%u phones  %.0f/s ", done, total, s > 0 ? done / s : 0.0);
    fflush(c->out);
}

static void on_file(void *ctx, ptc_file_outcome what, const char *path, const char *data, size_t len)
{
    (void)data;
    (void)len;
    console *c = ctx;
    if (c->quiet || !(c->dry_run || c->verbose)) return;
    const char *word = what == PTC_FILE_UNCHANGED ? "unchanged"
                     : what == PTC_FILE_CHANGED ? (c->dry_run ? "would change" : "change")
                     : (c->dry_run ? "would create" : "create");
    fprintf(c->out, "%s %s\n", word, path);
}

/* The advice after a run that did not finish. */
static void advise(int rc, const ptc_run_stats *st, ptc_diag *diag)
{
    if (rc == PTC_EXIT_NOPASS)
        fputs("ptc: use -a or --auto-pass to generate the missing password(s), "
              "or -A to only add them to the phone list.\n", stderr);
    else if (rc == PTC_EXIT_EXISTS)
        fputs("ptc: use -f or --force-overwrite to overwrite them.\nFiles left unchanged.\n", stderr);
    ptc_diag_finish(diag);
    if (rc == PTC_EXIT_ERROR && st->planned)
        fputs(st->committed ? "ptc: stopped after the commit point: run again to finish the run.\n"
                            : "ptc: nothing was written: fix the errors above and run again.\n", stderr);
}

static void summary(const run_args *a, const ptc_run_stats *st, int tty)
{
    if (a->quiet) return;
    if (tty) putchar('\n');
    if (!a->dry_run) puts("Done");
    printf("ptc: %u phone%s: %u file%s created, %u changed, %u unchanged; %u table row%s%s%s\n",
           st->phones, st->phones == 1 ? "" : "s", st->created, st->created == 1 ? "" : "s",
           st->changed, st->unchanged, st->rows, st->rows == 1 ? "" : "s",
           st->table_unchanged ? " (unchanged)" : "", a->dry_run ? " (dry run: nothing written)" : "");
}

/* The list path a run reads: it must be a regular file. */
static int check_list(const char *list, ptc_diag *diag)
{
    struct stat st;
    if (stat(list, &st) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "file not found: %s", list);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "not a regular file: %s", list);
        return -1;
    }
    return 0;
}

static int generate(const run_args *a, ptc_cfg *cfg, ptc_cache *cache, const char *ip, const char *db,
                    ptc_diag *diag)
{
    console con = {a->quiet, a->verbose, a->dry_run, isatty(1), stdout, {0, 0}};
    ptc_run_opts o = {
        .list_path = a->list, .db_path = db, .sip_server_ipv4 = ip,
        .force = a->force, .partial = a->partial, .dry_run = a->dry_run,
        .hooks = {.start = on_start, .progress = on_progress, .file = on_file, .ctx = &con},
    };
    ptc_run_stats stats;
    int rc = ptc_run(&o, cfg, cache, diag, &stats);
    if (rc != PTC_EXIT_OK) advise(rc, &stats, diag);
    else {
        ptc_diag_finish(diag);
        summary(a, &stats, con.tty);
    }
    return rc;
}

int ptc_cmd_run(int argc, char **argv)
{
    run_args a = {0};
    if (parse_args(argc, argv, &a) != 0 || ptc_cmd_check_db("run", "--db", a.db) != 0 ||
        ptc_cmd_check_db("run", "--audit-db", a.audit) != 0)
        return PTC_EXIT_ERROR;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    diag.show_warnings = a.verbose;
    ptc_diag_set_color_auto(&diag);
    ptc_cfg cfg;
    ptc_cache cache;
    ptc_cache_init(&cache, a.cache_dir);
    if (a.verbose) cache.log = stderr;
    char *ip = NULL, *db = NULL, *state = NULL, *made = NULL;
    int rc = PTC_EXIT_ERROR;
    ptc_runlock lock = {-1, NULL};
    if (ptc_cfg_load(&cfg, a.root, a.rc, &diag) != 0) goto out;
    if (a.only_reload) { rc = reload(&cfg, a.quiet, &diag); goto out; }
    if (!a.list) { fputs(usage_text, stderr); goto out; }
    if (check_list(a.list, &diag) != 0) goto out;
    if (a.auto_pass) {
        if (!a.quiet) puts("Auto-generating password(s):");
        int n = a.dry_run ? 0 : auto_pass(a.list, &diag);
        if (n < 0) goto out;
        if (!a.quiet) puts(a.dry_run ? "Dry run: no password added, input file left unchanged."
                           : n ? "Missing password(s) were added to input file."
                               : "No missing password(s), input file left unchanged.");
        if (a.only_pass) { rc = PTC_EXIT_OK; goto out; }
    }
    if (!(ip = ptc_host_sip_ipv4(&cfg, a.if_name, &diag))) goto out;
    /* --db is used as given (like --rc and the phone list); the default is under --root */
    db = ptc_cfg_phone_db(&cfg, a.db);
    state = ptc_commit_state_dir(&cfg, db);
    if (!a.dry_run && take_lock(&lock, state, db, &made, &diag) != 0) goto out;
    rc = generate(&a, &cfg, &cache, ip, db, &diag);
    if (rc == PTC_EXIT_OK && a.reload && !a.dry_run) reload(&cfg, a.quiet, &diag);
    if (rc == PTC_EXIT_OK && a.notify && !a.dry_run && notify_changed(&cfg, db, a.audit, &diag) != 0) rc = PTC_EXIT_ERROR;
out:
    ptc_runlock_release(&lock);
    if (state) untake_dirs(state, made);
    free(ip);
    free(db);
    free(state);
    ptc_cfg_free(&cfg);
    ptc_cache_free(&cache);
    return rc;
}

/* ---- ptc recover ------------------------------------------------------------ */

/* What `ptc run` does first, alone: for a ptc serve that may not write the
 * tree (the systemd unit runs it as ExecStartPre=+, with full privileges). */
int ptc_cmd_recover(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'}, {"rc", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *rc_file = NULL, *db_opt = NULL;
    /* (ptc recover's --db is checked below, with the others.) */
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'r') root = optarg;
        else if (opt == 'c') rc_file = optarg;
        else if (opt == 'd') db_opt = optarg;
        else {
            fputs("Usage: ptc recover [--root DIR] [--rc FILE] [--db FILE]\n"
                  "Finishes a `ptc run` that stopped after its commit point (waiting for a run\n"
                  "that is still going).  Exit status: 0 (also when nothing was pending), 1 on errors.\n",
                  opt == 'h' ? stdout : stderr);
            return opt == 'h' ? PTC_EXIT_OK : PTC_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ptc recover: unexpected argument '%s'\n", argv[optind]);
        return PTC_EXIT_USAGE;
    }
    if (ptc_cmd_check_db("recover", "--db", db_opt) != 0) return PTC_EXIT_USAGE;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cfg cfg;
    if (ptc_cfg_load(&cfg, root, rc_file, &diag) != 0) { ptc_cfg_free(&cfg); return PTC_EXIT_ERROR; }
    char *db = ptc_cfg_phone_db(&cfg, db_opt), *state = ptc_commit_state_dir(&cfg, db);
    int rc = PTC_EXIT_OK;
    if (ptc_commit_pending(state)) {
        ptc_runlock lock;                       /* a live run finishes first */
        char who[256];
        if (ptc_runlock_take(&lock, state, db, 0, who, sizeof who, &diag) == 1) ptc_runlock_release(&lock);
        if (ptc_commit_finish(state, db, &diag) < 0) rc = PTC_EXIT_ERROR;
    }
    free(state);
    free(db);
    ptc_cfg_free(&cfg);
    return rc;
}
