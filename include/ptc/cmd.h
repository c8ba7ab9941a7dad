/* The commands.  Each is thin: it parses its options and wires the stages
 * (front end, cache, VM, run planner, server); none re-implements a stage.
 * Each returns the process exit status (docs/ptc.1 lists them).  Ownership:
 * argv is borrowed; a command frees everything it made before it returns. */
#ifndef PTC_CMD_H
#define PTC_CMD_H

#include <signal.h>

int ptc_cmd_compile(int argc, char **argv);
int ptc_cmd_disasm(int argc, char **argv);
int ptc_cmd_run(int argc, char **argv);
int ptc_cmd_lint(int argc, char **argv);
int ptc_cmd_serve(int argc, char **argv);
int ptc_cmd_status(int argc, char **argv);
int ptc_cmd_recover(int argc, char **argv);
int ptc_cmd_notify(int argc, char **argv);
int ptc_cmd_dhcp(int argc, char **argv);
int ptc_cmd_export(int argc, char **argv);
int ptc_cmd_import(int argc, char **argv);
int ptc_cmd_web(int argc, char **argv);
int ptc_cmd_passwd(int argc, char **argv);

/* For the servers (serve, web): blocks SIGTERM, SIGINT and, with_hup,
 * SIGHUP, to be taken with sigwait(set) by the calling thread; call it
 * before any thread starts.  SIGPIPE is ignored. */
void ptc_cmd_take_signals(sigset_t *set, int with_hup);

/* 0 when loc (a --db or --audit-db value, NULL for none) may be used; else
 * prints "ptc CMD: OPT: why" (a PostgreSQL string with a password, or one
 * that does not parse) and returns -1. */
int ptc_cmd_check_db(const char *cmd, const char *opt, const char *loc);

/* Exit statuses shared by the commands. */
enum {
    PTC_EXIT_OK = 0,
    PTC_EXIT_ERROR = 1,         /* bad input, I/O failure */
    PTC_EXIT_EXISTS = 2,        /* run: output exists and -f not given; lint/compile: usage */
    PTC_EXIT_NOPASS = 3,        /* run: a password is missing and -a not given */
    PTC_EXIT_USAGE = 64         /* bad command line (compile, disasm, serve, status);
                                 * run exits 1 as the original did, lint 2 */
};

#endif
