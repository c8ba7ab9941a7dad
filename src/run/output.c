/* The files of a run: what the plan finds on disk and what the execute
 * pass writes (output.h). */
#include "output.h"
#include "gen_rec.h"
#include "ptc/lang.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANY_FILES 64           /* above this, include files are appended by path */
#define PROV_OPEN_TO_ALL 0x80000000u    /* prov_existing: world-readable */
#define PROV_LINK        0x40000000u    /* ... a symbolic link to the file */
#define PROV_RECORDED    0x20000000u    /* ... as the generation index recorded it */
#define PROV_SIZE_MASK   0x1FFFFFFFu    /* ... and the size (capped) */

void ptc_out_init(ptc_out *O, const ptc_run_opts *o, ptc_cfg *cfg, ptc_diag *diag,
                  ptc_run_stats *st, ptc_commit *commit)
{
    memset(O, 0, sizeof *O);
    O->o = o;
    O->cfg = cfg;
    O->diag = diag;
    O->st = st;
    O->commit = commit;
}

void ptc_out_free(ptc_out *O)
{
    if (!O) return;
    for (size_t i = 0; i < O->nf; i++) {
        ptc_out_file *f = &O->f[i];
        if (f->fd >= 0) close(f->fd);
        if (f->cmp_fd >= 0) close(f->cmp_fd);
        ptc_sink_free(&f->sink);
        free(f->real);
        free(f->open);
        free(f->hdr_context);
        free(f->tmp);
    }
    free(O->f);
    ptc_map_free(&O->prov_existing);
    ptc_dircache_free(&O->dirs_open);
    ptc_map_free(&O->dir_seen);
    ptc_buf_free(&O->existing);
    ptc_pathlist_free(&O->exists);
    ptc_pathlist_free(&O->dirs);
    ptc_pathlist_free(&O->open_to_all);
}

static void said(ptc_out *O, ptc_file_outcome what, const char *path, const ptc_buf *data)
{
    if (what == PTC_FILE_UNCHANGED) O->st->unchanged++;
    else if (what == PTC_FILE_CHANGED) O->st->changed++;
    else O->st->created++;
    int keep = O->o->keep_content && O->o->dry_run && data;
    if (O->o->hooks.file)
        O->o->hooks.file(O->o->hooks.ctx, what, path, keep ? (data->data ? data->data : "") : NULL, keep ? data->len : 0);
}

/* ---- plan ----------------------------------------------------------------- */

/* Notes the output's directory (for mkdir and the intent record) and says
 * whether it exists: in a directory that does not, no file does, so a
 * first run into a fresh tree needs no stat per file. */
static int note_dir(ptc_out *O, const char *open_path)
{
    const char *slash = strrchr(open_path, '/');
    size_t n = slash ? (size_t)(slash - open_path) : 0;
    int ins;
    uint32_t *v = ptc_map_put(&O->dir_seen, ptc_hash64(open_path, n), &ins);
    if (ins) {
        char *dir = ptc_dirname(open_path);
        struct stat st;
        *v = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 1 : 2;
        ptc_pathlist_add(&O->dirs, dir);
        free(dir);
    }
    return *v == 1;
}

static void note_existing(ptc_out *O, const char *open_path, int guarded)
{
    if (!guarded || O->o->force) return;
    if (O->nexists++ < 10) ptc_pathlist_add(&O->exists, open_path);
}

/* One lstat per output: whether it exists (so -f is needed), and that it
 * is a file (or a link to one), since a directory there would fail its
 * rename after the commit point. */
enum { OUT_MISSING, OUT_FILE, OUT_LINK };
static int stat_output(ptc_out *O, ptc_src *list, size_t at, const char *open_path, const char *path,
                       struct stat *st)
{
    const char *rel;
    int dirfd = ptc_dircache_at(&O->dirs_open, open_path, &rel);
    if (fstatat(dirfd, rel, st, AT_SYMLINK_NOFOLLOW) != 0) return OUT_MISSING;
    int link = S_ISLNK(st->st_mode);
    if (link && fstatat(dirfd, rel, st, 0) != 0) {
        ptc_diag_at(O->diag, list, at, PTC_ERROR, "not-a-file",
                    "output %s is a symbolic link to a missing file: fix or remove the link", path);
        return OUT_FILE;
    }
    if (!S_ISREG(st->st_mode)) {
        ptc_diag_at(O->diag, list, at, PTC_ERROR, "not-a-file",
                    "output %s exists and is not a regular file: move it away", path);
        return OUT_FILE;
    }
    return link ? OUT_LINK : OUT_FILE;
}

/* An output that is a symbolic link is written through it, as the
 * original's shell redirections did: the file to replace is the target,
 * and its temporary file goes beside the target. */
static char *link_target(ptc_out *O, const char *open_path)
{
    char *t = realpath(open_path, NULL);
    if (t) note_dir(O, t);
    return t;
}

static int as_recorded(const struct stat *st, const uint64_t *rec)
{
    return rec && (uint64_t)st->st_size == rec[0] && ptc_gen_mtime_ns(st) == rec[1] &&
           (uint64_t)st->st_ino == rec[2] && (uint64_t)(st->st_mode & 07770) == rec[3] && !(st->st_mode & 0007);
}

void ptc_out_plan_prov(ptc_out *O, ptc_src *list, size_t at, const char *path, const uint64_t *rec)
{
    char *open_path = ptc_cfg_path(O->cfg, path);
    struct stat st;
    int how = note_dir(O, open_path) ? stat_output(O, list, at, open_path, path, &st) : OUT_MISSING;
    if (how != OUT_MISSING) {
        int ins;
        /* Its size and mode, so the execute pass can tell most changes
         * without a stat of its own. */
        uint32_t *v = ptc_map_put(&O->prov_existing, ptc_hash64(path, strlen(path)), &ins);
        *v = st.st_size < (off_t)PROV_SIZE_MASK ? (uint32_t)st.st_size : PROV_SIZE_MASK;
        if (st.st_mode & 0007) *v |= PROV_OPEN_TO_ALL;
        if (how == OUT_LINK) {
            *v |= PROV_LINK;
            free(link_target(O, open_path));
        } else if (as_recorded(&st, rec)) {
            *v |= PROV_RECORDED;
        }
        note_existing(O, open_path, 1);
    }
    free(open_path);
}

void ptc_out_plan_include(ptc_out *O, ptc_src *list, size_t at, int ctx, int tmpl_order,
                          const char *hdr, const char *path)
{
    O->f = ptc_xrealloc(O->f, (O->nf + 1) * sizeof *O->f);
    ptc_out_file *f = &O->f[O->nf++];
    memset(f, 0, sizeof *f);
    f->real = ptc_xstrdup(path);
    f->open = ptc_cfg_path(O->cfg, path);
    f->ctx = ctx;
    f->hdr_order = tmpl_order;
    f->hdr_context = ptc_xstrdup(hdr);
    struct stat st;
    int how = note_dir(O, f->open) ? stat_output(O, list, at, f->open, path, &st) : OUT_MISSING;
    f->existed = how != OUT_MISSING;
    char *target = how == OUT_LINK ? link_target(O, f->open) : NULL;
    if (target) { free(f->open); f->open = target; }
    f->via_link = how == OUT_LINK;
    f->fd = f->cmp_fd = -1;
    note_existing(O, f->open, f->existed && !O->o->partial);
}

void ptc_out_include_again(ptc_out *O, size_t i, int tmpl_order, const char *hdr, const char *path)
{
    ptc_out_file *f = &O->f[i];
    if (tmpl_order <= f->hdr_order) return;
    f->hdr_order = tmpl_order;
    free(f->real);
    f->real = ptc_xstrdup(path);
    if (!ptc_ctx_is_dialplan(f->ctx)) return;
    free(f->hdr_context);
    f->hdr_context = ptc_xstrdup(hdr);
}

/* ---- execute -------------------------------------------------------------- */

static const char *const rule_dialplan = "###################################################";
static const char *const rule_sip = "#############################################################";
static const char *const rule_pjsip = "###############################################################";

/* The original's header, byte for byte. */
static void write_header(ptc_out_file *f)
{
    ptc_buf h = PTC_BUF_INIT;
    if (f->ctx == PTC_CTX_SIP || f->ctx == PTC_CTX_PJSIP) {
        int pj = f->ctx == PTC_CTX_PJSIP;
        ptc_buf_printf(&h, ";\n; %s\n; ### AstLinux auto-provisioned IP-Phone %s configurations ###\n"
                           "; %s\n;\n; Include in your %s file by using:\n; #include %s\n\n\n",
                       pj ? rule_pjsip : rule_sip, pj ? "PJSIP" : "SIP", pj ? rule_pjsip : rule_sip,
                       pj ? "pjsip.conf" : "sip.conf", f->real);
    } else {
        ptc_buf_printf(&h, ";\n; %s\n; ### AstLinux auto-provisioned IP-Phone dialplan ###\n"
                           "; %s\n;\n; Include in your extensions.conf file by using:\n; #include %s\n\n",
                       rule_dialplan, rule_dialplan, f->real);
        if (f->hdr_context[0]) ptc_buf_printf(&h, "[%s]\n", f->hdr_context);
    }
    ptc_sink_put(&f->sink, h.data, h.len);
    ptc_buf_free(&h);
}

/* -p on an existing include file: the new lines go after the old ones. */
static int copy_old(ptc_out *O, ptc_out_file *f)
{
    int old = open(f->open, O_RDONLY | O_CLOEXEC);
    int rc = old < 0 ? -1 : ptc_copy_fd(old, f->fd);
    if (old >= 0) close(old);
    if (rc != 0) ptc_diag_plain(O->diag, PTC_ERROR, "io", "cannot copy %s: %s", f->open, strerror(errno));
    return rc;
}

static int open_include(ptc_out *O, ptc_out_file *f)
{
    int keep_old = O->o->partial && f->existed;
    if (f->existed && !keep_old) f->cmp_fd = open(f->open, O_RDONLY | O_CLOEXEC);
    if (O->o->dry_run) {
        ptc_sink_init_mem(&f->sink);
        if (O->o->keep_content) f->sink.differs = keep_old;     /* compared whole, at the end */
        else if (!keep_old) ptc_sink_compare_with(&f->sink, f->cmp_fd);
        else f->sink.differs = 1;
        if (!keep_old || !f->existed) write_header(f);
        return 0;
    }
    f->fd = ptc_mktemp_beside(f->open, 0640, &f->tmp);
    if (f->fd < 0) {
        ptc_diag_plain(O->diag, PTC_ERROR, "io", "cannot create a file beside %s: %s", f->open, strerror(errno));
        return -1;
    }
    if (keep_old && copy_old(O, f) != 0) return -1;
    if (O->nf > MANY_FILES) {
        close(f->fd);
        f->fd = -1;
        ptc_sink_init_path(&f->sink, f->tmp);
    } else {
        ptc_sink_init_fd(&f->sink, f->fd);
    }
    if (keep_old) f->sink.differs = 1;
    else ptc_sink_compare_with(&f->sink, f->cmp_fd);
    if (!keep_old) write_header(f);
    return 0;
}

int ptc_out_prepare(ptc_out *O)
{
    if (!O->o->dry_run) {
        for (size_t i = 0; i < O->dirs.n; i++) {
            if (ptc_mkdirs(O->dirs.v[i], 0755) != 0) {
                ptc_diag_plain(O->diag, PTC_ERROR, "io", "cannot create directory %s: %s",
                               O->dirs.v[i], strerror(errno));
                return -1;
            }
        }
        if (ptc_commit_intent(O->commit, &O->dirs, O->diag) != 0) return -1;
    }
    for (size_t i = 0; i < O->nf; i++)
        if (open_include(O, &O->f[i]) != 0) return -1;
    return 0;
}

/* An unchanged output keeps its bytes and mtime, but not a mode that lets
 * everyone read it (a tree from the original tool): noted here, tightened
 * to the 0640 of every file ptc writes once the run has committed. */
static void note_unchanged_mode(ptc_out *O, const char *open_path)
{
    struct stat st;
    if (!O->o->dry_run && stat(open_path, &st) == 0 && (st.st_mode & 0007))
        ptc_pathlist_add(&O->open_to_all, open_path);
}

/* How the file at rel (in dirfd), whose size the plan found to be n too,
 * compares with data (n bytes): SAME, DIFFERS or NOT_FILE (replaced by a
 * directory since).  One open, one read, one close. */
enum { MISSING, DIFFERS, SAME, NOT_FILE };

static int compare_file(ptc_out *O, int dirfd, const char *rel, const char *data, size_t n)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == EISDIR ? NOT_FILE : DIFFERS;
    O->existing.len = 0;
    ptc_buf_reserve(&O->existing, n + 1);
    /* n + 1: a file that grew since; the plan's size: no read for EOF */
    ssize_t got = ptc_read_upto(fd, O->existing.data, n + 1, n);
    int err = errno;
    close(fd);
    if (got < 0 && err == EISDIR) return NOT_FILE;
    return got == (ssize_t)n && memcmp(O->existing.data, data, n) == 0 ? SAME : DIFFERS;
}

/* Writes the content beside open_path; with the generation index on, st
 * is the new file as it will be after its rename (else st_ino is 0). */
static int write_temp(ptc_out *O, int dirfd, const char *open_path, const ptc_buf *content, struct stat *st)
{
    char *tmp = NULL;
    int err = 0;
    int fd = ptc_mktemp_at(dirfd, open_path, 0640, &tmp);
    if (fd < 0 || ptc_write_all(fd, content->data, content->len) != 0) err = errno;
    st->st_ino = 0;
    if (O->gen && !err && fstat(fd, st) != 0) st->st_ino = 0;
    if (fd >= 0 && close(fd) != 0 && !err) err = errno;
    if (err) ptc_diag_plain(O->diag, PTC_ERROR, "io", "cannot write beside %s: %s", open_path, strerror(err));
    if (tmp) ptc_commit_add(O->commit, tmp, open_path);
    free(tmp);
    return err ? -1 : 0;
}

int ptc_out_write_prov(ptc_out *O, const char *path, const ptc_buf *content)
{
    char *open_path = ptc_cfg_path(O->cfg, path);
    int rc = 0;
    /* The plan knows what existed and its size: a first run reads nothing
     * back, a file of another size is changed without a look. */
    uint32_t *known = ptc_map_get(&O->prov_existing, ptc_hash64(path, strlen(path)));
    if (known && (*known & PROV_LINK)) {         /* write through the link */
        char *target = realpath(open_path, NULL);
        if (target) {
            free(open_path);
            open_path = target;
        }
    }
    const char *rel;
    int dirfd = ptc_dircache_at(&O->dirs_open, open_path, &rel);
    int how = !known ? MISSING
            : (*known & PROV_SIZE_MASK) != content->len ? DIFFERS
            : compare_file(O, dirfd, rel, content->data, content->len);
    if (how == NOT_FILE) {
        ptc_diag_plain(O->diag, PTC_ERROR, "not-a-file",
                       "output %s exists and is not a regular file: move it away", path);
        rc = -1;
    } else if (how == SAME) {
        if (!O->o->dry_run && (*known & PROV_OPEN_TO_ALL)) ptc_pathlist_add(&O->open_to_all, open_path);
        said(O, PTC_FILE_UNCHANGED, path, content);
        struct stat st;
        if (O->gen) ptc_gen_file(O->gen, path, fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ? &st : NULL);
    } else {
        said(O, how == DIFFERS ? PTC_FILE_CHANGED : PTC_FILE_CREATED, path, content);
        struct stat st;
        st.st_ino = 0;
        if (!O->o->dry_run) rc = write_temp(O, dirfd, open_path, content, &st);
        if (O->gen) ptc_gen_file(O->gen, path, rc == 0 && st.st_ino ? &st : NULL);
    }
    if (known && (*known & PROV_LINK)) ptc_gen_spoil(O->gen);
    free(open_path);
    return rc;
}

int ptc_out_prov_is_recorded(const ptc_out *O, const char *path)
{
    uint32_t *known = ptc_map_get(&O->prov_existing, ptc_hash64(path, strlen(path)));
    return known && (*known & PROV_RECORDED);
}

int ptc_out_prov_recorded(ptc_out *O, const char *path, const uint64_t *rec)
{
    if (!ptc_out_prov_is_recorded(O, path)) return 0;
    said(O, PTC_FILE_UNCHANGED, path, NULL);
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_size = (off_t)rec[0];
    st.st_mtim.tv_sec = (time_t)(rec[1] / 1000000000u);
    st.st_mtim.tv_nsec = (long)(rec[1] % 1000000000u);
    st.st_ino = (ino_t)rec[2];
    st.st_mode = (mode_t)(S_IFREG | rec[3]);
    ptc_gen_file(O->gen, path, &st);
    return 1;
}

/* keep_content: the whole new file is in memory; compare it with the old. */
static void compare_whole(ptc_out *O, ptc_out_file *f)
{
    if (!f->existed || f->sink.differs) return;
    O->existing.len = 0;
    int same = ptc_read_file(f->open, &O->existing) == 0 && O->existing.len == f->sink.buf.len &&
               memcmp(O->existing.data, f->sink.buf.data, f->sink.buf.len) == 0;
    f->sink.differs = !same;
}

static int finish_include(ptc_out *O, ptc_out_file *f)
{
    if (O->o->keep_content && O->o->dry_run) compare_whole(O, f);
    int err = ptc_sink_finish(&f->sink);
    if (f->fd >= 0 && close(f->fd) != 0 && !err) err = errno;
    f->fd = -1;
    if (err) {
        ptc_diag_plain(O->diag, PTC_ERROR, "io", "cannot write %s: %s", f->open, strerror(err));
        return -1;
    }
    struct stat st;
    if (f->via_link) ptc_gen_spoil(O->gen);
    if (f->existed && !f->sink.differs) {
        note_unchanged_mode(O, f->open);
        said(O, PTC_FILE_UNCHANGED, f->real, &f->sink.buf);
        if (O->gen) ptc_gen_file(O->gen, f->real, lstat(f->open, &st) == 0 ? &st : NULL);
        if (f->tmp) { unlink(f->tmp); free(f->tmp); f->tmp = NULL; }
        return 0;
    }
    said(O, f->existed ? PTC_FILE_CHANGED : PTC_FILE_CREATED, f->real, &f->sink.buf);
    if (O->gen) ptc_gen_file(O->gen, f->real, f->tmp && lstat(f->tmp, &st) == 0 ? &st : NULL);
    if (f->tmp) ptc_commit_add(O->commit, f->tmp, f->open);
    return 0;
}

int ptc_out_finish_includes(ptc_out *O)
{
    int rc = 0;
    for (size_t i = 0; i < O->nf; i++)
        if (finish_include(O, &O->f[i]) != 0) rc = -1;
    return rc;
}

void ptc_out_sync(ptc_out *O)
{
    ptc_commit_sync_dirs(&O->dirs);
}

void ptc_out_tighten(ptc_out *O)
{
    for (size_t i = 0; i < O->open_to_all.n; i++) chmod(O->open_to_all.v[i], 0640);
}
