/* ptc web: options, then ptc_web_start and the signals (SIGINT and SIGTERM
 * stop it). */
#include "ptc/web.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "Usage: ptc web [options...]\n"
    "\n"
    "The administrator's web interface and its JSON API (docs/web.md): the phone\n"
    "list, Generate, settings, status and notify.  A separate server from ptc serve.\n"
    "\n"
    "Options:\n"
    "      --listen ADDR:PORT      plain HTTP, on a loopback address only\n"
    "      --tls-listen ADDR:PORT  HTTPS (default 127.0.0.1:8443 when --listen is not given)\n"
    "      --cert FILE, --key FILE the HTTPS certificate and key (PEM); without them a\n"
    "                              self-signed pair is made once beside the users file\n"
    "      --list FILE             the phone list (default " PTC_DEFAULT_LIST ")\n"
    "      --users FILE            the accounts, made by ptc passwd\n"
    "                              (default " PTC_DEFAULT_WEB_DIR "/web-users)\n"
    "      --db FILE|URL           SQLite database (default /mnt/kd/asterisk-odbc.sqlite3), or a\n"
    "                              PostgreSQL connection string (postgresql://USER@HOST/DB)\n"
    "      --audit-db FILE|URL     ptc serve's fetch audit, for the status page\n"
    "                              (default PHONEPROV_AUDIT_DB or /mnt/kd/phoneprov-audit.sqlite3)\n"
    "      --cache-dir DIR         bytecode cache (default ~/.cache/ptc)\n"
    "      --session-idle SECONDS  a session ends after this long unused (default 1800)\n"
    "      --root DIR              read and write every default and template path under DIR\n"
    "      --rc FILE               configuration file (default /etc/rc.conf)\n"
    "  -h, --help                  show this help text\n"
    "\n"
    "Exit status: 0 after SIGINT or SIGTERM, 1 when it cannot start, 64 for a bad command line.\n";

static int parse_args(int argc, char **argv, ptc_web_opts *o)
{
    static const struct option longs[] = {
        {"listen", required_argument, NULL, 'l'}, {"tls-listen", required_argument, NULL, 't'},
        {"cert", required_argument, NULL, 'C'}, {"key", required_argument, NULL, 'K'},
        {"list", required_argument, NULL, 'L'}, {"users", required_argument, NULL, 'u'},
        {"db", required_argument, NULL, 'd'}, {"cache-dir", required_argument, NULL, 'c'},
        {"audit-db", required_argument, NULL, 'a'},
        {"session-idle", required_argument, NULL, 'i'}, {"root", required_argument, NULL, 'r'},
        {"rc", required_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'l': o->listen = optarg; break;
        case 't': o->tls_listen = optarg; break;
        case 'C': o->cert_file = optarg; break;
        case 'K': o->key_file = optarg; break;
        case 'L': o->list_path = optarg; break;
        case 'u': o->users_path = optarg; break;
        case 'd': o->db_path = optarg; break;
        case 'a': o->audit_db = optarg; break;
        case 'c': o->cache_dir = optarg; break;
        case 'r': o->root = optarg; break;
        case 'R': o->rc_file = optarg; break;
        case 'i':
            o->session_idle_s = (unsigned)strtoul(optarg, &end, 10);
            if (*end || !*optarg || o->session_idle_s == 0 || o->session_idle_s > 86400) {
                fprintf(stderr, "ptc web: --session-idle takes 1 to 86400 seconds, not '%s'\n", optarg);
                return -1;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 1;
        default: fputs(usage_text, stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ptc web: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (ptc_cmd_check_db("web", "--db", o->db_path) != 0 || ptc_cmd_check_db("web", "--audit-db", o->audit_db) != 0)
        return -1;
    if (!o->cert_file != !o->key_file) {
        fputs("ptc web: --cert and --key go together\n", stderr);
        return -1;
    }
    return 0;
}

int ptc_cmd_web(int argc, char **argv)
{
    ptc_web_opts o;
    memset(&o, 0, sizeof o);
    int p = parse_args(argc, argv, &o);
    if (p) return p > 0 ? PTC_EXIT_OK : PTC_EXIT_USAGE;
    sigset_t set;
    ptc_cmd_take_signals(&set, 0);      /* before the server's threads start */
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_web *w;
    if (ptc_web_start(&o, &w, &diag) != 0) return PTC_EXIT_ERROR;
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {}
    fprintf(stderr, "ptc web: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ptc_web_stop(w);
    return PTC_EXIT_OK;
}
