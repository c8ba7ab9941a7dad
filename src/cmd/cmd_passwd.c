/* ptc passwd: add a web interface account, change its password or role,
 * or delete it (include/ptc/users.h). */
#include "ptc/users.h"
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"
#include "ptc/fsutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MIN_PASSWORD 8

static const char usage_text[] =
    "Usage: ptc passwd [--users FILE] [--root DIR] [--rc FILE] [--role admin|viewer] [--delete] USER\n"
    "Sets USER's password for `ptc web` (adding the account), read from the terminal\n"
    "without echo (twice), or as one line from standard input.\n"
    "\n"
    "  --users FILE  the accounts (default " PTC_DEFAULT_WEB_DIR "/web-users under --root)\n"
    "  --role ROLE   admin (may change anything; the default for a new account)\n"
    "                or viewer (may only read)\n"
    "  --delete      remove the account\n"
    "  --root DIR, --rc FILE  as for ptc run\n"
    "\n"
    "Exit status: 0, 1 on errors, 64 for a bad command line.\n";

typedef struct passwd_args {
    const char *users, *root, *rc, *role, *user;
    int del;
} passwd_args;

static int parse_args(int argc, char **argv, passwd_args *a)
{
    static const struct option longs[] = {
        {"users", required_argument, NULL, 'u'}, {"root", required_argument, NULL, 'r'},
        {"rc", required_argument, NULL, 'c'}, {"role", required_argument, NULL, 'o'},
        {"delete", no_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'u': a->users = optarg; break;
        case 'r': a->root = optarg; break;
        case 'c': a->rc = optarg; break;
        case 'o': a->role = optarg; break;
        case 'd': a->del = 1; break;
        case 'h': fputs(usage_text, stdout); return 1;
        default: fputs(usage_text, stderr); return -1;
        }
    }
    if (optind != argc - 1) { fputs(usage_text, stderr); return -1; }
    a->user = argv[optind];
    if (a->role && strcmp(a->role, "admin") && strcmp(a->role, "viewer")) {
        fprintf(stderr, "ptc passwd: --role is admin or viewer, not '%s'\n", a->role);
        return -1;
    }
    if (!ptc_users_name_ok(a->user)) {
        fprintf(stderr, "ptc passwd: '%s' is not a user name: use 1 to 32 letters, digits and ._-\n", a->user);
        return -1;
    }
    return 0;
}

/* One line without its newline; from a terminal with echo off.  0 or -1. */
static int read_line(const char *prompt, char *out, size_t n)
{
    int tty = isatty(0);
    struct termios old, quiet;
    if (tty) {
        fputs(prompt, stderr);
        tcgetattr(0, &old);
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)n, stdin);
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int ask_password(char *pw, size_t n)
{
    char again[256];
    if (read_line("Password: ", pw, n) != 0) {
        fputs("ptc passwd: no password given\n", stderr);
        return -1;
    }
    int rc = 0;
    if (strlen(pw) < MIN_PASSWORD) {
        fprintf(stderr, "ptc passwd: a password has at least %d characters\n", MIN_PASSWORD);
        rc = -1;
    } else if (isatty(0) && (read_line("Again: ", again, sizeof again) != 0 || strcmp(again, pw) != 0)) {
        fputs("ptc passwd: the passwords differ\n", stderr);
        rc = -1;
    }
    explicit_bzero(again, sizeof again);
    return rc;
}

static int change(ptc_users *u, const passwd_args *a, ptc_diag *diag)
{
    if (a->del) {
        if (ptc_users_delete(u, a->user) == 0) return 0;
        ptc_diag_plain(diag, PTC_ERROR, "users", "no account %s", a->user);
        return -1;
    }
    const ptc_user *was = ptc_users_find(u, a->user);
    ptc_role role = a->role ? (strcmp(a->role, "admin") == 0 ? PTC_ROLE_ADMIN : PTC_ROLE_VIEWER)
                  : was ? was->role : PTC_ROLE_ADMIN;
    char pw[256];
    int rc = ask_password(pw, sizeof pw);
    if (rc == 0 && ptc_users_set(u, a->user, role, pw) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "users", "cannot hash the password (libxcrypt has no yescrypt?)");
        rc = -1;
    }
    explicit_bzero(pw, sizeof pw);
    return rc;
}

int ptc_cmd_passwd(int argc, char **argv)
{
    passwd_args a = {0};
    int p = parse_args(argc, argv, &a);
    if (p) return p > 0 ? PTC_EXIT_OK : PTC_EXIT_USAGE;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cfg cfg;
    ptc_users u = {0};
    int rc = PTC_EXIT_ERROR;
    if (ptc_cfg_load(&cfg, a.root, a.rc, &diag) != 0) goto out;
    char *path = a.users ? ptc_xstrdup(a.users) : ptc_cfg_path(&cfg, PTC_DEFAULT_WEB_DIR "/web-users");
    if (ptc_users_load(path, &u, &diag) == 0 && change(&u, &a, &diag) == 0) {
        char *dir = ptc_dirname(path);
        ptc_mkdirs(dir, 0750);
        free(dir);
        if (ptc_users_save(path, &u, &diag) == 0) rc = PTC_EXIT_OK;
    }
    free(path);
out:
    ptc_users_free(&u);
    ptc_cfg_free(&cfg);
    return rc;
}
