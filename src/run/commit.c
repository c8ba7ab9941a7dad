/* The commit protocol: intent, manifest, renames, recovery.
 *
 * The manifest is streamed to .ptc-commit.new as files are added, so a run
 * of 100,000 phones holds no list of names in memory; renaming it to
 * .ptc-commit (after fsync) is the commit point. */
#include "ptc/commit.h"
#include "ptc/buf.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/map.h"
#include "ptc/sql.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join(const char *dir, const char *name)
{
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/%s", dir, name);
    return (char *)ptc_buf_cstr(&b);
}

void ptc_commit_init(ptc_commit *c, const char *state_dir, const char *db_path)
{
    memset(c, 0, sizeof *c);
    c->manifest = join(state_dir, ".ptc-commit");
    c->pending = join(state_dir, ".ptc-commit.new");
    c->intent = join(state_dir, ".ptc-intent");
    c->db_path = ptc_xstrdup(db_path);
}

void ptc_commit_free(ptc_commit *c)
{
    if (!c) return;
    if (c->pf) fclose(c->pf);
    free(c->manifest);
    free(c->pending);
    free(c->intent);
    free(c->db_path);
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

/* Calls fn for each line of a record file, reading it a line at a time. */
static int each_line(const char *path, int (*fn)(char *line, void *arg), void *arg)
{
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
        if ((rc = fn(line, arg)) != 0) break;
    }
    free(line);
    fclose(f);
    return rc;
}

static int intent_line(char *line, void *arg)
{
    (void)arg;
    if (*line) remove_temps_in(line);
    return 0;
}

/* 1 when the record ends with its END line (it was written whole). */
static int is_complete(const char *path)
{
    char tail[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    off_t end = lseek(fd, 0, SEEK_END);
    int ok = end >= 4 && pread(fd, tail, 4, end - 4) == 4 && memcmp(tail, "END\n", 4) == 0;
    close(fd);
    return ok;
}

typedef struct {
    ptc_diag *diag;
    pthread_mutex_t *diag_mu;   /* the other half's thread reports too */
    unsigned part;              /* renames into directories of this half */
    int swap, failed;
    size_t dir_len;             /* of the last final name's directory */
    const char *last;           /* ... kept in last_buf */
    ptc_buf last_buf;
    ptc_map seen;               /* directories already listed */
    ptc_pathlist dirs;          /* to fsync once each, at the end */
    ptc_dircache open;          /* for renameat */
} replay;

/* Notes final's directory for the fsync at the end (renames of one
 * directory come in runs, so most lines compare with the last one). */
static void note_dir(replay *r, const char *final)
{
    const char *slash = strrchr(final, '/');
    size_t n = slash ? (size_t)(slash - final) : 0;
    if (r->last && n == r->dir_len && memcmp(final, r->last, n) == 0) return;
    r->last_buf.len = 0;
    ptc_buf_put(&r->last_buf, final, n);
    r->last = ptc_buf_cstr(&r->last_buf);
    r->dir_len = n;
    int ins;
    ptc_map_put(&r->seen, ptc_hash64(final, n), &ins);
    if (ins) ptc_pathlist_add(&r->dirs, n ? r->last : ".");
}

/* Which half renames into final's directory: a directory is one half's. */
static unsigned half_of(const char *final)
{
    const char *slash = strrchr(final, '/');
    return (unsigned)(ptc_hash64(final, slash ? (size_t)(slash - final) : 0) >> 32) & 1;
}

/* R<TAB>tmp<TAB>final: rename (a temp that is gone was renamed already). */
static int apply_line(char *line, void *arg)
{
    replay *r = arg;
    if (line[0] == 'S' && line[1] == '\t') { r->swap = atoi(line + 2); return 0; }
    if (line[0] != 'R' || line[1] != '\t') return 0;
    char *tmp = line + 2, *tab = strchr(tmp, '\t');
    if (!tab) return 0;
    *tab = '\0';
    const char *final = tab + 1, *rel_tmp, *rel_final;
    if (half_of(final) != r->part) return 0;
    int dirfd = ptc_dircache_at(&r->open, final, &rel_final);
    size_t dirlen = dirfd == AT_FDCWD ? 0 : (size_t)(rel_final - final);
    /* The temporary file lives beside its target: same directory. */
    rel_tmp = dirlen && strncmp(tmp, final, dirlen) == 0 && !strchr(tmp + dirlen, '/') ? tmp + dirlen : tmp;
    if (rel_tmp == tmp) { dirfd = AT_FDCWD; rel_final = final; }
    /* ENOENT: renamed already by the run that was interrupted, if the
     * final file is there; otherwise something is wrong and is said. */
    if (renameat(dirfd, rel_tmp, dirfd, rel_final) != 0 &&
        (errno != ENOENT || faccessat(dirfd, rel_final, F_OK, AT_SYMLINK_NOFOLLOW) != 0)) {
        int err = errno;
        pthread_mutex_lock(r->diag_mu);
        ptc_diag_plain(r->diag, PTC_ERROR, "io", "cannot rename %s to %s: %s", tmp, final, strerror(err));
        pthread_mutex_unlock(r->diag_mu);
        r->failed = 1;
    }
    note_dir(r, final);
    return 0;
}

static int unlink_line(char *line, void *arg)
{
    (void)arg;
    if (line[0] != 'R' || line[1] != '\t') return 0;
    char *tab = strchr(line + 2, '\t');
    if (tab) { *tab = '\0'; unlink(line + 2); }
    return 0;
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

typedef struct {
    replay r;
    const char *manifest;
} half;

/* One half's renames, then its directories' fsync: 0, or -1. */
static void *apply_half(void *arg)
{
    half *h = arg;
    replay *r = &h->r;
    if (each_line(h->manifest, apply_line, r) != 0) r->failed = 1;
    for (size_t i = 0; i < r->dirs.n; i++) ptc_fsync_dir(r->dirs.v[i]);
    ptc_pathlist_free(&r->dirs);
    ptc_map_free(&r->seen);
    ptc_dircache_free(&r->open);
    ptc_buf_free(&r->last_buf);
    return NULL;
}

/* Carries out a committed manifest; idempotent.  The renames are split by
 * directory between this thread and another (their order does not matter
 * past the commit point, and two directories' renames run side by side). */
static int apply(ptc_commit *c, ptc_diag *diag)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    half h[2];
    memset(h, 0, sizeof h);
    for (unsigned i = 0; i < 2; i++) h[i] = (half){.r = {.diag = diag, .diag_mu = &mu, .part = i}, .manifest = c->manifest};
    pthread_t other;
    int threaded = c->nfiles >= 1024 && pthread_create(&other, NULL, apply_half, &h[1]) == 0;
    apply_half(&h[0]);
    if (threaded) pthread_join(other, NULL);
    else apply_half(&h[1]);
    pthread_mutex_destroy(&mu);
    if (h[0].r.failed || h[1].r.failed || do_swap(c, h[0].r.swap, diag) != 0) return -1;
    unlink(c->manifest);
    unlink(c->intent);
    return 0;
}

/* The intent record's own temporary file (..ptc-intent.ptc-XXXXXX, from
 * ptc_write_file_atomic), left by a run killed while writing it. */
static void remove_intent_temps(const ptc_commit *c)
{
    char *dir = ptc_dirname(c->intent);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "..ptc-intent.ptc-", 17) != 0) continue;
        char *p = join(dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (d) closedir(d);
    free(dir);
}

int ptc_commit_recover(ptc_commit *c, ptc_diag *diag)
{
    remove_intent_temps(c);
    if (ptc_exists(c->manifest) && is_complete(c->manifest)) {
        ptc_diag_plain(diag, PTC_WARNING, "recover", "finishing an interrupted run");
        return apply(c, diag);
    }
    unlink(c->manifest);
    int rolled_back = 0;
    if (ptc_exists(c->pending)) {
        each_line(c->pending, unlink_line, NULL);
        unlink(c->pending);
        rolled_back = 1;
    }
    if (ptc_exists(c->intent)) {
        each_line(c->intent, intent_line, NULL);
        unlink(c->intent);
        rolled_back = 1;
    }
    if (rolled_back && (ptc_sql_is_pg(c->db_path) || ptc_exists(c->db_path))) {
        ptc_db *db = ptc_db_open(c->db_path, 30000, diag);
        if (db) { ptc_db_drop_build(db, diag); ptc_db_close(db); }
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
    ptc_buf_free(&b);
    if (rc != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", c->intent, strerror(errno));
        return -1;
    }
    int fd = open(c->pending, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(c->pf = fdopen(fd, "w"))) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", c->pending, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return 0;
}

void ptc_commit_add(ptc_commit *c, const char *tmp, const char *final)
{
    if (fprintf(c->pf, "R\t%s\t%s\n", tmp, final) < 0) c->write_error = errno ? errno : EIO;
    c->nfiles++;
}

void ptc_commit_abort(ptc_commit *c)
{
    if (c->committed) return;           /* the next run rolls forward */
    if (c->pf) {
        fflush(c->pf);
        fclose(c->pf);
        c->pf = NULL;
        each_line(c->pending, unlink_line, NULL);
    }
    for (size_t i = 0; i < c->dirs.n; i++) remove_temps_in(c->dirs.v[i]);
    unlink(c->pending);
    unlink(c->intent);
}

int ptc_commit_run(ptc_commit *c, ptc_diag *diag)
{
    int err = c->write_error;
    if (!c->pf) err = EINVAL;
    else if (fprintf(c->pf, "S\t%d\nEND\n", c->db_swap) < 0 || fflush(c->pf) != 0 ||
             fsync(fileno(c->pf)) != 0)
        err = errno;
    if (c->pf && fclose(c->pf) != 0 && !err) err = errno;
    c->pf = NULL;
    if (!err && rename(c->pending, c->manifest) != 0) err = errno;
    if (err) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot write %s: %s", c->manifest, strerror(err));
        each_line(c->pending, unlink_line, NULL);
        ptc_commit_abort(c);
        return -1;
    }
    c->committed = 1;
    char *dir = ptc_dirname(c->manifest);
    ptc_fsync_dir(dir);
    free(dir);
    /* Past the commit point: a failure from here is finished by the next
     * run's recovery, so the manifest stays when one happens. */
    return apply(c, diag);
}

/* ---- for the other commands: a run interrupted after its commit point ----- */

char *ptc_commit_state_dir(const ptc_cfg *cfg, const char *db)
{
    if (!ptc_sql_is_pg(db)) return ptc_dirname(db);
    char *def = ptc_cfg_path(cfg, PTC_DEFAULT_PHONE_DB), *dir = ptc_dirname(def);
    free(def);
    return dir;
}

int ptc_commit_lock(const char *state_dir, int nonblock)
{
    int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc;
    while ((rc = flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0))) != 0 && errno == EINTR) {}
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int ptc_runlock_take(ptc_runlock *l, const char *state_dir, const char *db, int nonblock,
                     char *who, size_t wholen, ptc_diag *diag)
{
    l->fd = -1;
    l->db = NULL;
    if (wholen) who[0] = '\0';
    if ((l->fd = ptc_commit_lock(state_dir, nonblock)) < 0) {
        if (nonblock && errno == EWOULDBLOCK) {
            snprintf(who, wholen, "another ptc run on this host");
            return 0;
        }
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot lock %s: %s", state_dir, strerror(errno));
        return -1;
    }
    if (!ptc_sql_is_pg(db)) return 1;
    int rc = -1;
    if ((l->db = ptc_db_open(db, 30000, diag))) rc = ptc_db_run_lock(l->db, nonblock, who, wholen, diag);
    if (rc != 1) ptc_runlock_release(l);
    return rc;
}

void ptc_runlock_release(ptc_runlock *l)
{
    ptc_db_close(l->db);        /* the advisory lock goes with the session */
    l->db = NULL;
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}

int ptc_commit_pending(const char *state_dir)
{
    char *manifest = join(state_dir, ".ptc-commit");
    /* A record we may not read (0600, another user's) counts as pending:
     * the server that cannot check it must not serve what may be a mix. */
    int pending = ptc_exists(manifest) && (access(manifest, R_OK) != 0 || is_complete(manifest));
    free(manifest);
    return pending;
}

int ptc_commit_finish(const char *state_dir, const char *db, ptc_diag *diag)
{
    if (!ptc_commit_pending(state_dir)) return 0;
    /* A run that holds the run lock is alive and finishes its own renames;
     * only a dead run's record is ours to finish. */
    ptc_runlock lock;
    char who[256];
    int got = ptc_runlock_take(&lock, state_dir, db, 1, who, sizeof who, diag);
    if (got == 0) return 1;
    if (got < 0) {
        ptc_diag_plain(diag, PTC_ERROR, "recover", "cannot finish the interrupted run: %s", state_dir);
        return -1;
    }
    int rc = 1;
    char *manifest = join(state_dir, ".ptc-commit");
    if (access(manifest, R_OK | W_OK) != 0 || access(state_dir, W_OK) != 0) {
        /* Recovery would misread an unreadable record as a torn one and
         * roll back what is committed: only a user who may finish it tries. */
        ptc_diag_plain(diag, PTC_ERROR, "recover", "cannot finish the interrupted run: %s: %s",
                       manifest, strerror(errno));
        rc = -1;
    }
    free(manifest);
    if (rc == 1) {
        ptc_commit c;
        ptc_commit_init(&c, state_dir, db);
        rc = ptc_commit_pending(state_dir) ? (ptc_commit_recover(&c, diag) == 0 ? 0 : -1) : 0;
        ptc_commit_free(&c);
    }
    ptc_runlock_release(&lock);
    return rc;
}

void ptc_commit_sync_dirs(const ptc_pathlist *dirs)
{
    ptc_map devs = {0};
    for (size_t i = 0; i < dirs->n; i++) {
        struct stat st;
        if (stat(dirs->v[i], &st) != 0) continue;
        int ins;
        ptc_map_put(&devs, (uint64_t)st.st_dev + 1, &ins);
        if (!ins) continue;
        int fd = open(dirs->v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) { syncfs(fd); close(fd); }
    }
    ptc_map_free(&devs);
}
