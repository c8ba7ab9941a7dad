/* ptc notify: options and wiring (src/notify.c does the work). */
#include "ptc/cmd.h"
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/notify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char notify_usage[] =
    "Usage: ptc notify [options] TARGET...\n"
    "Asks Asterisk to send the phones a SIP NOTIFY: resync (fetch their files\n"
    "again) or, with --reboot, reboot (docs/notify.md).  A TARGET is a MAC (any\n"
    "spelling) or an extension; or use --template, --all or --changed.\n"
    "\n"
    "  --reboot               reboot instead of resync\n"
    "  --template NAME        every phone of template NAME (repeatable)\n"
    "  --all                  every phone of the phone table\n"
    "  --changed              the phones whose files changed since they fetched them\n"
    "                         (ptc serve's audit; phones never fetched are left out)\n"
    "  --via cli|ami          asterisk -rx (default) or the Manager interface\n"
    "  --ami HOST:PORT        the Manager (--via ami; default 127.0.0.1:5038)\n"
    "  --ami-secret-file F    user=NAME and secret=SECRET lines, mode 0600\n"
    "  --asterisk PATH        the asterisk binary (default: asterisk on PATH)\n"
    "  --rate N               phones a second (default 20)\n"
    "  --format text|json     one result line per phone (default text)\n"
    "  --dry-run              print what would be sent, send nothing\n"
    "  --root DIR, --rc FILE, --db FILE|URL, --audit-db FILE|URL   as for ptc status\n"
    "\n"
    "Exit status: 0 when Asterisk accepted every notify; 1 otherwise or on errors;\n"
    "64 for a bad command line.\n";

typedef struct notify_args {
    ptc_notify_opts o;
    const char *root, *rc, *db, *audit;
    const char **templates;
    size_t ntemplates;
    int all, changed;
    char **targets;
    int ntargets;
} notify_args;

static int parse_rate(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v > 0) || v > 10000) return -1;
    *out = v;
    return 0;
}

static int parse_notify(int argc, char **argv, notify_args *a)
{
    static const struct option longs[] = {
        {"reboot", no_argument, NULL, 'b'}, {"template", required_argument, NULL, 't'},
        {"all", no_argument, NULL, 'A'}, {"changed", no_argument, NULL, 'C'},
        {"via", required_argument, NULL, 'v'}, {"ami", required_argument, NULL, 'm'},
        {"ami-secret-file", required_argument, NULL, 's'}, {"asterisk", required_argument, NULL, 'x'},
        {"rate", required_argument, NULL, 'r'}, {"format", required_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, 'n'}, {"root", required_argument, NULL, 'R'},
        {"rc", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
        {"audit-db", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'b': a->o.reboot = 1; break;
        case 't': a->templates[a->ntemplates++] = optarg; break;
        case 'A': a->all = 1; break;
        case 'C': a->changed = 1; break;
        case 'v':
            if (strcmp(optarg, "cli") && strcmp(optarg, "ami")) goto bad;
            a->o.via = strcmp(optarg, "ami") == 0 ? PTC_NOTIFY_AMI : PTC_NOTIFY_CLI;
            break;
        case 'm': a->o.ami_addr = optarg; break;
        case 's': a->o.ami_secret_file = optarg; break;
        case 'x': a->o.asterisk = optarg; break;
        case 'r': if (parse_rate(optarg, &a->o.rate) != 0) goto bad; break;
        case 'f':
            if (strcmp(optarg, "text") && strcmp(optarg, "json")) goto bad;
            a->o.json = strcmp(optarg, "json") == 0;
            break;
        case 'n': a->o.dry_run = 1; break;
        case 'R': a->root = optarg; break;
        case 'c': a->rc = optarg; break;
        case 'd': a->db = optarg; break;
        case 'a': a->audit = optarg; break;
        case 'h': fputs(notify_usage, stdout); return 1;
        default: goto bad;
        }
    }
    a->targets = argv + optind;
    a->ntargets = argc - optind;
    if (a->ntargets || a->ntemplates || a->all || a->changed) return 0;
    fputs("ptc notify: no phone named: give a MAC, an extension, --template, --all or --changed\n", stderr);
    return -1;
bad:
    fprintf(stderr, "ptc notify: bad option or value '%s'\n%s", argv[optind - 1], notify_usage);
    return -1;
}

/* Marks the phones the command line names; the errors. */
static int select_targets(ptc_notify_set *set, const notify_args *a, const ptc_cfg *cfg, ptc_diag *diag)
{
    int bad = 0;
    for (int i = 0; i < a->ntargets; i++) bad |= ptc_notify_select(set, a->targets[i], diag) != 0;
    for (size_t i = 0; i < a->ntemplates; i++) bad |= ptc_notify_select_template(set, a->templates[i], diag) != 0;
    if (a->all) ptc_notify_select_all(set);
    if (a->changed) {
        char *audit = ptc_cfg_audit_db(cfg, a->audit);
        char *base = ptc_cfg_path(cfg, ptc_cfg_base_dir(cfg));
        ptc_notify_select_changed(set, audit, base, diag);
        free(audit);
        free(base);
    }
    return bad;
}

int ptc_cmd_notify(int argc, char **argv)
{
    notify_args a;
    memset(&a, 0, sizeof a);
    a.templates = ptc_xcalloc((size_t)argc + 1, sizeof *a.templates);
    a.o.rate = 20;
    a.o.out = stdout;
    a.o.ami_addr = "127.0.0.1:5038";
    int prc = parse_notify(argc, argv, &a);
    if (prc == 0 && (ptc_cmd_check_db("notify", "--db", a.db) != 0 ||
                     ptc_cmd_check_db("notify", "--audit-db", a.audit) != 0))
        prc = -1;
    if (prc != 0) { free(a.templates); return prc > 0 ? PTC_EXIT_OK : PTC_EXIT_USAGE; }
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cfg cfg;
    ptc_notify_set set = {0};
    int rc = PTC_EXIT_ERROR;
    if (ptc_cfg_load(&cfg, a.root, a.rc, &diag) != 0) goto out;
    char *db = ptc_cfg_phone_db(&cfg, a.db);
    int loaded = ptc_notify_load(&set, db, &diag);
    free(db);
    if (loaded != 0) goto out;
    int bad = select_targets(&set, &a, &cfg, &diag);
    size_t n = ptc_notify_choose(&set, &a.o, &cfg, &diag);
    int failed = n ? ptc_notify_send(&set, &a.o, &diag) : 0;
    if (!n && !bad && !diag.errors)
        fprintf(stderr, "ptc notify: no phone to notify\n");
    rc = failed == 0 && !bad && !diag.errors ? PTC_EXIT_OK : PTC_EXIT_ERROR;
out:
    ptc_notify_set_free(&set);
    ptc_cfg_free(&cfg);
    free(a.templates);
    return rc;
}
