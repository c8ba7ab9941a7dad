/* ptc serve: options, then ptc_serve_start and the signals (SIGHUP reloads,
 * SIGINT/SIGTERM stop).  The server is src/serve/serve.c. */
#include "ptc/serve.h"
#include "ptc/cmd.h"
#include "ptc/sql.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
          "  --audit-db FILE|URL     fetch audit (default /mnt/kd/phoneprov-audit.sqlite3; off),\n"
          "                          or a PostgreSQL connection string shared by several servers\n"
          "  --db FILE|URL           phone table (default /mnt/kd/asterisk-odbc.sqlite3), or a\n"
          "                          PostgreSQL connection string (postgresql://USER@HOST/DB)\n"
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
/* Signals are taken by the calling thread with sigwait: blocked before
 * any thread starts, so every thread inherits the mask. */
int ptc_cmd_check_db(const char *cmd, const char *opt, const char *loc)
{
    char why[400];
    if (!loc || ptc_sql_check(loc, why, sizeof why) == 0) return 0;
    fprintf(stderr, "ptc %s: %s: %s\n", cmd, opt, why);
    return -1;
}

void ptc_cmd_take_signals(sigset_t *set, int with_hup)
{
    sigemptyset(set);
    if (with_hup) sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int serve_until_signal(const ptc_serve_opts *o, ptc_diag *diag)
{
    ptc_serve *s = NULL;
    sigset_t set;
    ptc_cmd_take_signals(&set, 1);
    if (ptc_serve_start(o, &s, diag) != 0) return PTC_EXIT_ERROR;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) { ptc_serve_reload(s); continue; }
        ptc_serve_say("note", "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
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
    if (ptc_cmd_check_db("serve", "--db", o.phone_db) != 0 ||
        (o.audit_db && strcmp(o.audit_db, "off") != 0 && ptc_cmd_check_db("serve", "--audit-db", o.audit_db) != 0))
        goto done;
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
