/* The mass deployment: read, plan, execute, commit (include/ptc/run.h). */
#include "ptc/run.h"
#include "ptc/cmd.h"
#include "ptc/commit.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/map.h"
#include "ptc/plan.h"
#include "ptc/phone.h"
#include "ptc/rec.h"
#include "ptc/sink.h"
#include "ptc/vm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANY_FILES 64           /* above this, include files are appended by path */
#define PROV_OPEN_TO_ALL 0x80000000u    /* prov_existing: world-readable */
#define PROV_LINK        0x40000000u    /* ... a symbolic link to the file */
#define PROV_SIZE_MASK   0x3FFFFFFFu    /* ... and the size (capped) */

typedef struct tmpl {
    char *name;
    ptc_prog *prog;             /* NULL: missing or broken (reported once) */
    int order;                  /* first appearance in the phone list */
} tmpl;

typedef struct outfile {        /* an include file ([dialplanN], [sip], [pjsip]) */
    char *real, *open;
    int ctx;
    int hdr_order;              /* template order that chose the header */
    char *hdr_context;          /* dialplan context line, "" for none */
    int existed;
    char *tmp;
    int fd, cmp_fd;
    ptc_sink sink;
} outfile;

typedef struct run {
    const ptc_run_opts *o;
    ptc_cfg *cfg;
    ptc_cache *cache;
    ptc_diag *diag;
    ptc_run_stats *st;
    ptc_src *list;
    tmpl *t;
    size_t nt;
    outfile *f;
    size_t nf;
    ptc_plan plan;              /* the checks shared with ptc lint */
    ptc_map prov_existing;      /* provisioning files already on disk */
    ptc_dircache dirs_open;     /* output directories, for *at() calls */
    ptc_phone ph;
    ptc_phone_env env;
    ptc_buf content, existing;
    ptc_pathlist exists, dirs;  /* exists: the first few, for the message */
    ptc_pathlist open_to_all;   /* unchanged outputs that others may read */
    size_t nexists;
    ptc_map dir_seen;
    int any_sql;
    uint64_t rows_hash;         /* of the rows the plan would write */
    long nrows;
    int table_same;             /* ... which the table already holds */
    ptc_commit commit;
    ptc_db *db;
} run;

static uint64_t hash_str(const char *s)
{
    return ptc_hash64(s, strlen(s));
}

static int is_dialplan(int ctx)
{
    return ctx >= PTC_CTX_DIALPLAN1 && ctx <= PTC_CTX_DIALPLAN6;
}

/* ---- templates ------------------------------------------------------------ */

static tmpl *get_template(run *R, const ptc_rec *r)
{
    const char *name = ptc_rec_str(R->list, r->tmpl);
    for (size_t i = 0; i < R->nt; i++)
        if (strlen(R->t[i].name) == r->tmpl.len && !memcmp(R->t[i].name, name, r->tmpl.len))
            return &R->t[i];
    R->t = ptc_xrealloc(R->t, (R->nt + 1) * sizeof *R->t);
    tmpl *t = &R->t[R->nt];
    t->name = ptc_xstrndup(name, r->tmpl.len);
    t->order = (int)R->nt++;
    t->prog = NULL;
    ptc_buf real = PTC_BUF_INIT;
    ptc_buf_printf(&real, "%s/templates/%s.conf", R->env.base_dir, t->name);
    char *open_path = ptc_cfg_path(R->cfg, ptc_buf_cstr(&real));
    ptc_src *src = ptc_src_load(open_path, NULL);
    if (!src) {
        ptc_diag_at(R->diag, R->list, r->tmpl.off, PTC_ERROR, "unknown-template",
                    "template \"%s\" not found: %s: %s", t->name, open_path, strerror(errno));
    } else {
        t->prog = ptc_cache_get(R->cache, src, R->diag);
        ptc_src_free(src);
    }
    free(open_path);
    ptc_buf_free(&real);
    return t;
}

/* ---- plan ----------------------------------------------------------------- */

static void hash_rows(run *R, const ptc_rec *r, const tmpl *t);

/* Notes the output's directory (for mkdir and the intent record) and says
 * whether it exists: in a directory that does not, no file does, so a
 * first run into a fresh tree needs no stat per file. */
static int note_dir(run *R, const char *open_path)
{
    const char *slash = strrchr(open_path, '/');
    size_t n = slash ? (size_t)(slash - open_path) : 0;
    int ins;
    uint32_t *v = ptc_map_put(&R->dir_seen, ptc_hash64(open_path, n), &ins);
    if (ins) {
        char *dir = ptc_dirname(open_path);
        struct stat st;
        *v = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 1 : 2;
        ptc_pathlist_add(&R->dirs, dir);
        free(dir);
    }
    return *v == 1;
}

static void note_existing(run *R, const char *open_path, int guarded)
{
    if (!guarded || R->o->force) return;
    if (R->nexists++ < 10) ptc_pathlist_add(&R->exists, open_path);
}

/* One lstat per output: whether it exists (so -f is needed), and that it
 * is a file (or a link to one), since a directory there would fail its
 * rename after the commit point. */
enum { OUT_MISSING, OUT_FILE, OUT_LINK };
static int stat_output(run *R, const ptc_rec *r, const char *open_path, const char *path, struct stat *st)
{
    const char *rel;
    int dirfd = ptc_dircache_at(&R->dirs_open, open_path, &rel);
    if (fstatat(dirfd, rel, st, AT_SYMLINK_NOFOLLOW) != 0) return OUT_MISSING;
    int link = S_ISLNK(st->st_mode);
    if (link && fstatat(dirfd, rel, st, 0) != 0) {
        ptc_diag_at(R->diag, R->list, r->tmpl.off, PTC_ERROR, "not-a-file",
                    "output %s is a symbolic link to a missing file: fix or remove the link", path);
        return OUT_FILE;
    }
    if (!S_ISREG(st->st_mode)) {
        ptc_diag_at(R->diag, R->list, r->tmpl.off, PTC_ERROR, "not-a-file",
                    "output %s exists and is not a regular file: move it away", path);
        return OUT_FILE;
    }
    return link ? OUT_LINK : OUT_FILE;
}

/* An output that is a symbolic link is written through it, as the
 * original's shell redirections did: the file to replace is the target,
 * and its temporary file goes beside the target. */
static char *link_target(run *R, const char *open_path)
{
    char *t = realpath(open_path, NULL);
    if (t) note_dir(R, t);
    return t;
}

static void plan_prov(run *R, const ptc_rec *r, const char *path)
{
    char *open_path = ptc_cfg_path(R->cfg, path);
    struct stat st;
    int how = note_dir(R, open_path) ? stat_output(R, r, open_path, path, &st) : OUT_MISSING;
    if (how != OUT_MISSING) {
        int ins;
        /* Its size and mode, so the execute pass can tell most changes
         * without a stat of its own. */
        uint32_t *v = ptc_map_put(&R->prov_existing, hash_str(path), &ins);
        *v = st.st_size < (off_t)PROV_SIZE_MASK ? (uint32_t)st.st_size : PROV_SIZE_MASK;
        if (st.st_mode & 0007) *v |= PROV_OPEN_TO_ALL;
        if (how == OUT_LINK) {
            *v |= PROV_LINK;
            free(link_target(R, open_path));
        }
        note_existing(R, open_path, 1);
    }
    free(open_path);
}

static void plan_include_new(run *R, const ptc_rec *r, const tmpl *t, int ctx, const char *path)
{
    const char *hdr = is_dialplan(ctx) ? ptc_phone_dialplan_context(&R->ph, ctx, &R->env) : "";
    R->f = ptc_xrealloc(R->f, (R->nf + 1) * sizeof *R->f);
    outfile *f = &R->f[R->nf++];
    memset(f, 0, sizeof *f);
    f->real = ptc_xstrdup(path);
    f->open = ptc_cfg_path(R->cfg, path);
    f->ctx = ctx;
    f->hdr_order = t->order;
    f->hdr_context = ptc_xstrdup(hdr);
    struct stat st;
    int how = note_dir(R, f->open) ? stat_output(R, r, f->open, path, &st) : OUT_MISSING;
    f->existed = how != OUT_MISSING;
    char *target = how == OUT_LINK ? link_target(R, f->open) : NULL;
    if (target) { free(f->open); f->open = target; }
    f->fd = f->cmp_fd = -1;
    note_existing(R, f->open, f->existed && !R->o->partial);
}

/* Two templates sharing a file: as in the original, whose init of the file
 * ran last (the template that appears last) writes its header. */
static void plan_include_same(run *R, const tmpl *t, int ctx, outfile *f, const char *path)
{
    if (t->order <= f->hdr_order) return;
    f->hdr_order = t->order;
    free(f->real);                      /* the header names the file its way */
    f->real = ptc_xstrdup(path);
    if (!is_dialplan(ctx)) return;
    free(f->hdr_context);
    f->hdr_context = ptc_xstrdup(ptc_phone_dialplan_context(&R->ph, ctx, &R->env));
}

static void plan_phone(run *R, const ptc_rec *r)
{
    tmpl *t = get_template(R, r);
    if (!t->prog || ptc_plan_mac(&R->plan, r) != 0) return;
    ptc_phone_bind(&R->ph, t->prog, R->list, r, &R->env);
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
        if (!ptc_prog_has(t->prog, ctx)) continue;
        const char *path;
        size_t file;
        switch (ptc_plan_output(&R->plan, r, &R->ph, &R->env, ctx, &path, &file)) {
        case PTC_PLAN_PROV:         plan_prov(R, r, path); break;
        case PTC_PLAN_INCLUDE_NEW:  plan_include_new(R, r, t, ctx, path); break;
        case PTC_PLAN_INCLUDE_SAME: plan_include_same(R, t, ctx, &R->f[file], path); break;
        case PTC_PLAN_REFUSED:      break;
        }
    }
    ptc_plan_account(&R->plan, r, &R->ph);
    if (R->ph.sql_enable) {
        R->any_sql = 1;
        hash_rows(R, r, t);
    }
}

static int plan(run *R)
{
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    ptc_rec r;
    while (ptc_rec_next_line(R->list, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(R->list, off, len, line, &r, R->diag) != 0) continue;
        ptc_plan_password(&R->plan, &r);
        plan_phone(R, &r);
        R->st->phones++;
    }
    return 0;
}

/* ---- execute -------------------------------------------------------------- */

static const char *const rule_dialplan = "###################################################";
static const char *const rule_sip = "#############################################################";
static const char *const rule_pjsip = "###############################################################";

/* The original's header, byte for byte. */
static void write_header(outfile *f)
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

static int copy_fd(int from, int to)
{
    char b[65536];
    for (;;) {
        ssize_t n = read(from, b, sizeof b);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (ptc_write_all(to, b, (size_t)n) != 0) return -1;
    }
}

static int open_include(run *R, outfile *f)
{
    int keep_old = R->o->partial && f->existed;
    if (f->existed && !keep_old) f->cmp_fd = open(f->open, O_RDONLY | O_CLOEXEC);
    if (R->o->dry_run) {
        ptc_sink_init_mem(&f->sink);
        if (!keep_old) ptc_sink_compare_with(&f->sink, f->cmp_fd);
        else f->sink.differs = 1;
        if (!keep_old || !f->existed) write_header(f);
        return 0;
    }
    f->fd = ptc_mktemp_beside(f->open, 0640, &f->tmp);
    if (f->fd < 0) {
        ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot create a file beside %s: %s", f->open, strerror(errno));
        return -1;
    }
    if (keep_old) {
        int old = open(f->open, O_RDONLY | O_CLOEXEC);
        int rc = old < 0 ? -1 : copy_fd(old, f->fd);
        if (old >= 0) close(old);
        if (rc != 0) {
            ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot copy %s: %s", f->open, strerror(errno));
            return -1;
        }
    }
    if (R->nf > MANY_FILES) {
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

static void report_file(run *R, const char *what, const char *path)
{
    if (!R->o->quiet && (R->o->dry_run || R->o->verbose)) fprintf(R->o->out, "%s %s\n", what, path);
}

/* An unchanged output keeps its bytes and mtime, but not a mode that lets
 * everyone read it (a tree from the original tool): noted here, tightened
 * to the 0640 of every file ptc writes once the run has committed. */
static void note_unchanged_mode(run *R, const char *open_path)
{
    struct stat st;
    if (!R->o->dry_run && stat(open_path, &st) == 0 && (st.st_mode & 0007))
        ptc_pathlist_add(&R->open_to_all, open_path);
}

/* How the file at rel (in dirfd), whose size the plan found to be n too,
 * compares with data (n bytes): SAME, DIFFERS or NOT_FILE (replaced by a
 * directory since).  One open, one read, one close. */
enum { MISSING, DIFFERS, SAME, NOT_FILE };

static int compare_file(run *R, int dirfd, const char *rel, const char *data, size_t n)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == EISDIR ? NOT_FILE : DIFFERS;
    R->existing.len = 0;
    ptc_buf_reserve(&R->existing, n + 1);
    size_t got = 0;
    for (;;) {                          /* n + 1: a file that grew since */
        ssize_t k = read(fd, R->existing.data + got, n + 1 - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno == EISDIR) { close(fd); return NOT_FILE; }
        if (k <= 0) break;
        got += (size_t)k;
        if (got >= n) break;            /* the plan's size: no read for EOF */
    }
    close(fd);
    return got == n && memcmp(R->existing.data, data, n) == 0 ? SAME : DIFFERS;
}

static int write_prov(run *R, const char *path)
{
    char *open_path = ptc_cfg_path(R->cfg, path);
    int rc = 0;
    /* The plan knows what existed and its size: a first run reads nothing
     * back, a file of another size is changed without a look. */
    uint32_t *known = ptc_map_get(&R->prov_existing, hash_str(path));
    if (known && (*known & PROV_LINK)) {         /* write through the link */
        char *target = realpath(open_path, NULL);
        if (target) {
            free(open_path);
            open_path = target;
        }
    }
    const char *rel;
    int dirfd = ptc_dircache_at(&R->dirs_open, open_path, &rel);
    int how = !known ? MISSING
            : (*known & PROV_SIZE_MASK) != R->content.len ? DIFFERS
            : compare_file(R, dirfd, rel, R->content.data, R->content.len);
    if (how == NOT_FILE) {
        ptc_diag_plain(R->diag, PTC_ERROR, "not-a-file",
                       "output %s exists and is not a regular file: move it away", path);
        rc = -1;
        goto out;
    }
    if (how == SAME) {
        R->st->unchanged++;
        if (!R->o->dry_run && (*known & PROV_OPEN_TO_ALL)) ptc_pathlist_add(&R->open_to_all, open_path);
        report_file(R, "unchanged", path);
        goto out;
    }
    int existed = how == DIFFERS;
    if (existed) R->st->changed++; else R->st->created++;
    report_file(R, existed ? (R->o->dry_run ? "would change" : "change")
                           : (R->o->dry_run ? "would create" : "create"), path);
    if (R->o->dry_run) goto out;
    char *tmp = NULL;
    int fd = ptc_mktemp_at(dirfd, open_path, 0640, &tmp);
    if (fd < 0 || ptc_write_all(fd, R->content.data, R->content.len) != 0) {
        ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot write beside %s: %s", open_path, strerror(errno));
        rc = -1;
    }
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot write beside %s: %s", open_path, strerror(errno));
        rc = -1;
    }
    if (tmp) ptc_commit_add(&R->commit, tmp, open_path);
    free(tmp);
out:
    free(open_path);
    return rc;
}

/* Row i (0-based line) of the bound phone, as the original writes it. */
static void row_of(const run *R, const ptc_rec *r, const tmpl *t, int i, ptc_db_row *row)
{
    const ptc_vm_rec *v = &R->ph.rec;
    *row = (ptc_db_row){
        .ext = v->v[PTC_SLOT_EXT1 + i], .ext_len = (int)v->n[PTC_SLOT_EXT1 + i],
        .cid_name = v->v[PTC_SLOT_CID_NAME1 + i], .cid_name_len = (int)v->n[PTC_SLOT_CID_NAME1 + i],
        .cid_num = v->v[PTC_SLOT_CID_NUM1 + i], .cid_num_len = (int)v->n[PTC_SLOT_CID_NUM1 + i],
        .account = v->v[PTC_SLOT_ACCOUNT1 + i], .account_len = (int)v->n[PTC_SLOT_ACCOUNT1 + i],
        .line = i + 1, .mac_addr = r->mac_addr,
        .template_ = t->name, .template_len = (int)strlen(t->name),
        .model = v->v[PTC_SLOT_MODEL], .model_len = (int)v->n[PTC_SLOT_MODEL],
        .vendor = v->v[PTC_SLOT_VENDOR], .vendor_len = (int)v->n[PTC_SLOT_VENDOR],
        .sip_driver = R->ph.sip_driver,
    };
}

/* The plan hashes the rows it would write (see table_unchanged). */
static void hash_rows(run *R, const ptc_rec *r, const tmpl *t)
{
    ptc_db_row row;
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        if (!ptc_phone_line_is_distinct(&R->ph, i)) continue;
        row_of(R, r, t, i, &row);
        R->rows_hash = ptc_db_row_hash(R->rows_hash, ++R->nrows, &row);
    }
}

static int add_rows(run *R, const ptc_rec *r, const tmpl *t)
{
    ptc_db_row row;
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        if (!ptc_phone_line_is_distinct(&R->ph, i)) continue;
        row_of(R, r, t, i, &row);
        if (ptc_db_build_add(R->db, &row, R->diag) != 0) return -1;
        R->st->rows++;
    }
    return 0;
}

/* 1 when the phoneprov table already holds exactly the rows this run would
 * write: then it is left alone, like an unchanged file. */
static int table_unchanged(run *R)
{
    if (!R->any_sql || R->o->partial) return 0;
    const char *db_open = R->o->db_path;
    int same = 0;
    if (ptc_exists(db_open)) {
        ptc_diag quiet;
        ptc_diag_init_null(&quiet);
        ptc_db *db = ptc_db_open(db_open, 30000, &quiet);
        uint64_t h;
        long rows;
        same = db && ptc_db_table_hash(db, &h, &rows) == 0 &&
               rows == R->nrows && h == R->rows_hash;
        ptc_db_close(db);
    }
    return same;
}

static outfile *include_for(run *R, const char *path)
{
    long i = ptc_plan_include_of(&R->plan, path);
    return i >= 0 ? &R->f[i] : NULL;
}

static int execute_phone(run *R, const ptc_rec *r)
{
    tmpl *t = get_template(R, r);
    ptc_phone_bind(&R->ph, t->prog, R->list, r, &R->env);
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
        if (!ptc_prog_has(t->prog, ctx)) continue;
        const char *why;
        const char *path = ptc_phone_output_path(&R->ph, ctx, &R->env, &why);
        if (ctx == PTC_CTX_PHONEPROV) {
            ptc_sink mem;
            ptc_sink_init_mem(&mem);
            mem.buf = R->content;
            mem.buf.len = 0;
            ptc_vm_run(t->prog, ctx, &R->ph.rec, &mem);
            R->content = mem.buf;
            if (write_prov(R, path) != 0) return -1;
            continue;
        }
        outfile *f = include_for(R, path);
        ptc_vm_run(t->prog, ctx, &R->ph.rec, &f->sink);
        if (ctx == PTC_CTX_SIP || ctx == PTC_CTX_PJSIP) ptc_sink_put(&f->sink, "\n", 1);
    }
    if (R->db && R->ph.sql_enable) return add_rows(R, r, t);
    return 0;
}

static void progress(run *R, unsigned done, unsigned total, struct timespec *t0)
{
    if (R->o->quiet) return;
    if (!R->o->progress_tty) {          /* the original's dots, unless files are named */
        if (!R->o->dry_run && !R->o->verbose) fputc('.', R->o->out);
        return;
    }
    if (done != total && done % 256) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
    fprintf(R->o->out, "\r  %u/%u phones  %.0f/s ", done, total, s > 0 ? done / s : 0.0);
    fflush(R->o->out);
}

static int finish_includes(run *R)
{
    int rc = 0;
    for (size_t i = 0; i < R->nf; i++) {
        outfile *f = &R->f[i];
        int err = ptc_sink_finish(&f->sink);
        if (f->fd >= 0 && close(f->fd) != 0 && !err) err = errno;
        f->fd = -1;
        if (err) {
            ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot write %s: %s", f->open, strerror(err));
            rc = -1;
            continue;
        }
        if (f->existed && !f->sink.differs) {
            R->st->unchanged++;
            note_unchanged_mode(R, f->open);
            report_file(R, "unchanged", f->real);
            if (f->tmp) { unlink(f->tmp); free(f->tmp); f->tmp = NULL; }
            continue;
        }
        if (f->existed) R->st->changed++; else R->st->created++;
        report_file(R, f->existed ? (R->o->dry_run ? "would change" : "change")
                                  : (R->o->dry_run ? "would create" : "create"), f->real);
        if (f->tmp) ptc_commit_add(&R->commit, f->tmp, f->open);
    }
    return rc;
}

/* One syncfs per file system instead of an fsync per file: the data of
 * every temporary file is durable before the commit record is written. */
static void sync_outputs(run *R)
{
    ptc_map devs = {0};
    for (size_t i = 0; i < R->dirs.n; i++) {
        struct stat st;
        if (stat(R->dirs.v[i], &st) != 0) continue;
        int ins;
        ptc_map_put(&devs, (uint64_t)st.st_dev + 1, &ins);
        if (!ins) continue;
        int fd = open(R->dirs.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) { syncfs(fd); close(fd); }
    }
    ptc_map_free(&devs);
}

static int prepare_outputs(run *R)
{
    if (R->o->dry_run) return 0;
    for (size_t i = 0; i < R->dirs.n; i++) {
        if (ptc_mkdirs(R->dirs.v[i], 0755) != 0) {
            ptc_diag_plain(R->diag, PTC_ERROR, "io", "cannot create directory %s: %s",
                           R->dirs.v[i], strerror(errno));
            return -1;
        }
    }
    return ptc_commit_intent(&R->commit, &R->dirs, R->diag);
}

static int execute(run *R)
{
    ptc_diag quiet;                     /* pass 1 reported everything */
    ptc_diag_init_null(&quiet);
    if (prepare_outputs(R) != 0) return -1;
    for (size_t i = 0; i < R->nf; i++)
        if (open_include(R, &R->f[i]) != 0) return -1;
    R->table_same = table_unchanged(R);
    if (R->table_same) {
        R->st->rows = (unsigned)R->nrows;
        R->st->table_unchanged = 1;
    }
    if (R->any_sql && !R->o->dry_run && !R->table_same) {
        R->db = ptc_db_open(R->o->db_path, 30000, R->diag);
        if (!R->db || ptc_db_build_begin(R->db, R->o->partial, R->diag) != 0) return -1;
    }
    if (!R->o->quiet) fputs("Generating Phone Provisioning files:\n", R->o->out);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t pos = 0, off, len;
    unsigned line = 0, done = 0;
    ptc_rec r;
    while (ptc_rec_next_line(R->list, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(R->list, off, len, line, &r, &quiet) != 0) continue;
        if (execute_phone(R, &r) != 0) return -1;
        progress(R, ++done, R->st->phones, &t0);
    }
    if (finish_includes(R) != 0) return -1;
    if (R->db && ptc_db_build_end(R->db, R->diag) != 0) return -1;
    if (R->o->dry_run) return 0;
    sync_outputs(R);
    R->commit.db_swap = R->table_same ? 0 : R->any_sql ? 1 : (R->o->partial ? 0 : 2);
    ptc_db_close(R->db);
    R->db = NULL;
    if (ptc_commit_run(&R->commit, R->diag) != 0) return -1;
    for (size_t i = 0; i < R->open_to_all.n; i++) chmod(R->open_to_all.v[i], 0640);
    return 0;
}

/* ---- the whole run -------------------------------------------------------- */

/* A run refused before its commit point leaves nothing behind: not even the
 * database file it created for the table (a full disk on a first run). */
static void remove_new_db(run *R)
{
    ptc_db_close(R->db);
    R->db = NULL;
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        ptc_buf p = PTC_BUF_INIT;
        ptc_buf_printf(&p, "%s%s", R->o->db_path, suffix[i]);
        unlink(ptc_buf_cstr(&p));
        ptc_buf_free(&p);
    }
}

static void free_run(run *R)
{
    for (size_t i = 0; i < R->nt; i++) {
        free(R->t[i].name);
        ptc_prog_free(R->t[i].prog);
    }
    free(R->t);
    for (size_t i = 0; i < R->nf; i++) {
        outfile *f = &R->f[i];
        if (f->fd >= 0) close(f->fd);
        if (f->cmp_fd >= 0) close(f->cmp_fd);
        ptc_sink_free(&f->sink);
        free(f->real);
        free(f->open);
        free(f->hdr_context);
        free(f->tmp);
    }
    free(R->f);
    ptc_plan_free(&R->plan);
    ptc_map_free(&R->prov_existing);
    ptc_dircache_free(&R->dirs_open);
    ptc_map_free(&R->dir_seen);
    ptc_phone_free(&R->ph);
    ptc_buf_free(&R->content);
    ptc_buf_free(&R->existing);
    ptc_pathlist_free(&R->exists);
    ptc_pathlist_free(&R->dirs);
    ptc_pathlist_free(&R->open_to_all);
    ptc_commit_free(&R->commit);
    ptc_db_close(R->db);
    ptc_src_free(R->list);
}

static int report_existing(run *R)
{
    for (size_t i = 0; i < R->exists.n; i++)
        ptc_diag_plain(R->diag, PTC_ERROR, "exists", "file \"%s\" exists", R->exists.v[i]);
    if (R->nexists > R->exists.n)
        ptc_diag_plain(R->diag, PTC_ERROR, "exists", "... and %zu more existing files",
                       R->nexists - R->exists.n);
    fputs("ptc: use -f or --force-overwrite to overwrite them.\nFiles left unchanged.\n", stderr);
    return PTC_EXIT_EXISTS;
}

int ptc_run(const ptc_run_opts *o, ptc_cfg *cfg, ptc_cache *cache, ptc_diag *diag,
            ptc_run_stats *stats)
{
    run R;
    memset(&R, 0, sizeof R);
    R.o = o;
    R.cfg = cfg;
    R.cache = cache;
    R.diag = diag;
    R.st = stats;
    memset(stats, 0, sizeof *stats);
    R.env.base_dir = ptc_cfg_base_dir(cfg);
    R.env.sip_server_ipv4 = o->sip_server_ipv4;
    R.rows_hash = PTC_HASH64_INIT;
    ptc_phone_init(&R.ph);
    char *db_open = ptc_xstrdup(o->db_path);
    char *state_dir = ptc_dirname(db_open);
    ptc_commit_init(&R.commit, state_dir, db_open);
    free(state_dir);
    free(db_open);
    int rc = PTC_EXIT_ERROR;

    R.list = ptc_src_load(o->list_path, NULL);
    if (!R.list) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", o->list_path, strerror(errno));
        goto out;
    }
    R.list->redact = ptc_rec_redact;
    ptc_plan_init(&R.plan, R.list, diag);
    if (!o->dry_run && ptc_commit_recover(&R.commit, diag) != 0) goto out;
    plan(&R);
    if (diag->errors > R.plan.missing) {
        ptc_diag_finish(diag);
        fputs("ptc: nothing was written: fix the errors above and run again.\n", stderr);
        goto out;
    }
    if (R.plan.missing) {
        fputs("ptc: use -a or --auto-pass to generate the missing password(s), "
              "or -A to only add them to the phone list.\n", stderr);
        rc = PTC_EXIT_NOPASS;
        goto out;
    }
    if (R.nexists) { rc = report_existing(&R); goto out; }
    int db_existed = ptc_exists(o->db_path);
    if (execute(&R) != 0) {
        if (!o->dry_run) ptc_commit_abort(&R.commit);
        if (!o->dry_run && !R.commit.committed && !db_existed) remove_new_db(&R);
        ptc_diag_finish(diag);
        fputs(R.commit.committed ? "ptc: stopped after the commit point: run again to finish the run.\n"
                                 : "ptc: nothing was written: fix the errors above and run again.\n", stderr);
        goto out;
    }
    rc = PTC_EXIT_OK;
out:
    free_run(&R);
    return rc;
}
