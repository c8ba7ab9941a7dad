/* The commit protocol: intent, manifest, renames, recovery. */
#include "ptc/commit.h"
#include "ptc/buf.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ptc_commit_init(ptc_commit *c, const char *state_dir, const char *db_path)
{
    memset(c, 0, sizeof *c);
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/.ptc-commit", state_dir);
    c->manifest = ptc_xstrdup(ptc_buf_cstr(&b));
    b.len = 0;
    ptc_buf_printf(&b, "%s/.ptc-intent", state_dir);
    c->intent = ptc_xstrdup(ptc_buf_cstr(&b));
    ptc_buf_free(&b);
    c->db_path = ptc_xstrdup(db_path);
}

void ptc_commit_free(ptc_commit *c)
{
    if (!c) return;
    free(c->manifest);
    free(c->intent);
    free(c->db_path);
    ptc_pathlist_free(&c->tmp);
    ptc_pathlist_free(&c->final);
    ptc_pathlist_free(&c->dirs);
}

/* A temporary file of ours: .NAME.ptc-XXXXXX */
static int is_our_temp(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 12 && memcmp(name + n - 11, ".ptc-", 5) == 0;
}

static void remove_temps_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    ptc_buf b = PTC_BUF_INIT;
    while ((e = readdir(d))) {
        if (!is_our_temp(e->d_name)) continue;
        b.len = 0;
        ptc_buf_printf(&b, "%s/%s", dir, e->d_name);
        unlink(ptc_buf_cstr(&b));
    }
    ptc_buf_free(&b);
    closedir(d);
}

/* Calls fn for each line of a record file. */
static int each_line(const char *path, void (*fn)(char *line, void *arg), void *arg)
{
    ptc_buf b = PTC_BUF_INIT;
    if (ptc_read_file(path, &b) != 0) { ptc_buf_free(&b); return -1; }
    char *s = (char *)ptc_buf_cstr(&b);
    while (*s) {
        char *e = strchr(s, '\n');
        if (e) *e = '\0';
        fn(s, arg);
        if (!e) break;
        s = e + 1;
    }
    ptc_buf_free(&b);
    return 0;
}

static void intent_line(char *line, void *arg)
{
    (void)arg;
    if (*line == '/' || *line == '.') remove_temps_in(line);
}

typedef struct { ptc_commit *c; int complete; int swap; } replay;

static void manifest_line(char *line, void *arg)
{
    replay *r = arg;
    if (!strcmp(line, "END")) { r->complete = 1; return; }
    if (line[0] == 'S' && line[1] == '\t') { r->swap = atoi(line + 2); return; }
    if (line[0] != 'R' || line[1] != '\t') return;
    char *tmp = line + 2, *tab = strchr(tmp, '\t');
    if (!tab) return;
    *tab = '\0';
    ptc_commit_add(r->c, tmp, tab + 1);
}

static int do_swap(ptc_commit *c, int how, ptc_diag *diag)
{
    if (!how) return 0;
    ptc_db *db = ptc_db_open(c->db_path, 30000, diag);
    if (!db) return -1;
    int rc = ptc_db_swap(db, how == 2, diag);
    ptc_db_close(db);
    return rc;
}

/* Renames what is still pending: a temp that is gone was renamed already. */
static int apply(ptc_commit *c, ptc_diag *diag)
{
    int rc = 0;
    for (size_t i = 0; i < c->tmp.n; i++) {
        if (rename(c->tmp.v[i], c->final.v[i]) == 0 || errno == ENOENT) continue;
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot rename %s to %s: %s",
                       c->tmp.v[i], c->final.v[i], strerror(errno));
        rc = -1;
    }
    for (size_t i = 0; i < c->final.n; i++) {
        char *dir = ptc_dirname(c->final.v[i]);
        ptc_fsync_dir(dir);
        free(dir);
    }
    return rc;
}

int ptc_commit_recover(ptc_commit *c, ptc_diag *diag)
{
    replay r = { c, 0, 0 };
    if (ptc_exists(c->manifest)) {
        each_line(c->manifest, manifest_line, &r);
        if (r.complete) {
            ptc_diag_plain(diag, PTC_WARNING, "recover",
                           "finishing an interrupted run (%zu files)", c->tmp.n);
            if (apply(c, diag) != 0 || do_swap(c, r.swap, diag) != 0) return -1;
        }
        ptc_pathlist_free(&c->tmp);
        ptc_pathlist_free(&c->final);
        unlink(c->manifest);
    }
    if (ptc_exists(c->intent)) {
        each_line(c->intent, intent_line, NULL);
        unlink(c->intent);
        if (!r.complete && ptc_exists(c->db_path)) {
            ptc_db *db = ptc_db_open(c->db_path, 30000, diag);
            if (db) { ptc_db_drop_build(db, diag); ptc_db_close(db); }
        }
    }
    return 0;
}

int ptc_commit_intent(ptc_commit *c, const ptc_pathlist *dirs, ptc_diag *diag)
{
    ptc_buf b = PTC_BUF_INIT;
    for (size_t i = 0; i < dirs->n; i++) {
        ptc_buf_printf(&b, "%s\n", dirs->v[i]);
        ptc_pathlist_add(&c->dirs, dirs->v[i]);
    }
    int rc = ptc_write_file_atomic(c->intent, b.data ? b.data : "", b.len, 0600);
    if (rc != 0)
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", c->intent, strerror(errno));
    ptc_buf_free(&b);
    return rc;
}

void ptc_commit_add(ptc_commit *c, const char *tmp, const char *final)
{
    ptc_pathlist_add(&c->tmp, tmp);
    ptc_pathlist_add(&c->final, final);
}

void ptc_commit_abort(ptc_commit *c)
{
    if (c->committed) return;           /* the next run rolls forward */
    for (size_t i = 0; i < c->tmp.n; i++) unlink(c->tmp.v[i]);
    for (size_t i = 0; i < c->dirs.n; i++) remove_temps_in(c->dirs.v[i]);
    unlink(c->intent);
}

int ptc_commit_run(ptc_commit *c, ptc_diag *diag)
{
    ptc_buf m = PTC_BUF_INIT;
    for (size_t i = 0; i < c->tmp.n; i++)
        ptc_buf_printf(&m, "R\t%s\t%s\n", c->tmp.v[i], c->final.v[i]);
    ptc_buf_printf(&m, "S\t%d\nEND\n", c->db_swap);
    if (ptc_write_file_atomic(c->manifest, m.data, m.len, 0600) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", c->manifest, strerror(errno));
        ptc_buf_free(&m);
        ptc_commit_abort(c);
        return -1;
    }
    ptc_buf_free(&m);
    c->committed = 1;
    char *dir = ptc_dirname(c->manifest);
    ptc_fsync_dir(dir);
    free(dir);
    /* Past the commit point: failures from here are finished by the next
     * run's recovery, so the manifest stays when they happen. */
    if (apply(c, diag) != 0 || do_swap(c, c->db_swap, diag) != 0) return -1;
    unlink(c->manifest);
    unlink(c->intent);
    return 0;
}
