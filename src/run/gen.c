/* The generation index (include/ptc/gen.h).
 *
 * The record is text, one event a line, in the order the run reported them:
 *
 *   ptc-gen 1 KEY                        KEY: 16 hex digits
 *   P                                    a phone done (a progress dot)
 *   F SIZE MTIME_NS INO MODE PATH        an output, as shown (before --root)
 *   E SQL ROWS HASH DBSIZE DBMTIME DBINO WALSIZE WALMTIME     the end
 *
 * A record without its E line is torn and is not used. */
#include "ptc/gen.h"
#include "ptc/buf.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/sql.h"
#include "ptc/templates.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN_MAGIC "ptc-gen 1 "

static uint64_t mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    s = s ? s : "";
    return ptc_hash64_update(h, s, strlen(s) + 1);      /* the NUL separates */
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the templates directory, by name then bytes: a template the
 * list does not name today may be named by a line that did not change. */
static int hash_templates(uint64_t *h, const ptc_cfg *cfg)
{
    char *dir = ptc_templates_dir(cfg);
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = d ? 0 : -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = ptc_xrealloc(names, (cap = cap ? cap * 2 : 32) * sizeof *names);
        names[n++] = ptc_xstrdup(e->d_name);
    }
    if (d) closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    ptc_buf b = PTC_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        ptc_buf p = PTC_BUF_INIT;
        ptc_buf_printf(&p, "%s/%s", dir, names[i]);
        struct stat st;
        b.len = 0;
        if (stat(ptc_buf_cstr(&p), &st) == 0 && S_ISREG(st.st_mode)) {
            if (ptc_read_file(ptc_buf_cstr(&p), &b) != 0) rc = -1;
            *h = hash_str(*h, names[i]);
            *h = ptc_hash64_update(*h, b.data ? b.data : "", b.len);
        }
        ptc_buf_free(&p);
        free(names[i]);
    }
    ptc_buf_free(&b);
    free(names);
    free(dir);
    return rc;
}

uint64_t ptc_gen_key(const ptc_run_opts *o, const ptc_cfg *cfg, const ptc_src *list)
{
    uint64_t h = hash_str(PTC_HASH64_INIT, GEN_MAGIC);
    struct stat st;
    /* Another ptc may render differently: its binary is part of the key. */
    if (stat("/proc/self/exe", &st) != 0) return 0;
    uint64_t exe[3] = {(uint64_t)st.st_size, mtime_ns(&st), (uint64_t)st.st_ino};
    h = ptc_hash64_update(h, exe, sizeof exe);
    h = hash_str(h, cfg->root);
    h = hash_str(h, ptc_cfg_base_dir(cfg));
    for (size_t i = 0; i < cfg->nvars; i++) {
        h = hash_str(h, cfg->vars[i].name);
        h = hash_str(h, cfg->vars[i].value);
    }
    h = hash_str(h, o->sip_server_ipv4);
    h = hash_str(h, o->db_path);
    h = ptc_hash64_update(h, &list->len, sizeof list->len);
    h = ptc_hash64_update(h, list->text, list->len);
    if (hash_templates(&h, cfg) != 0) return 0;
    return h ? h : 1;
}

char *ptc_gen_path(const char *cache_dir, const char *state_dir, const char *db)
{
    if (!cache_dir) return NULL;
    uint64_t h = hash_str(hash_str(PTC_HASH64_INIT, state_dir), db);
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/gen-%016" PRIx64 ".idx", cache_dir, h);
    return (char *)ptc_buf_cstr(&b);
}

/* ---- replay ---------------------------------------------------------------- */

typedef struct gen_end {
    int sql;
    long rows;
    uint64_t hash, db[3], wal[2];
} gen_end;

static void db_stat(const char *db, uint64_t out_db[3], uint64_t out_wal[2])
{
    struct stat st;
    memset(out_db, 0, 3 * sizeof *out_db);
    memset(out_wal, 0, 2 * sizeof *out_wal);
    if (ptc_sql_is_pg(db)) return;
    if (stat(db, &st) == 0) {
        out_db[0] = (uint64_t)st.st_size;
        out_db[1] = mtime_ns(&st);
        out_db[2] = (uint64_t)st.st_ino;
    }
    ptc_buf wal = PTC_BUF_INIT;
    ptc_buf_printf(&wal, "%s-wal", db);
    if (stat(ptc_buf_cstr(&wal), &st) == 0) {
        out_wal[0] = (uint64_t)st.st_size;
        out_wal[1] = mtime_ns(&st);
    }
    ptc_buf_free(&wal);
}

/* The table as recorded: a file by its stat, PostgreSQL by its rows. */
static int table_as_recorded(const gen_end *e, const char *db)
{
    if (ptc_sql_is_pg(db)) return e->sql && ptc_db_table_is(db, e->hash, e->rows);
    uint64_t now_db[3], now_wal[2];
    db_stat(db, now_db, now_wal);
    return memcmp(now_db, e->db, sizeof now_db) == 0 && memcmp(now_wal, e->wal, sizeof now_wal) == 0;
}

/* "F SIZE MTIME INO MODE PATH": the numbers into v, the path's start. */
static const char *parse_file(const char *line, uint64_t v[4])
{
    const char *p = line + 2;
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        v[i] = strtoull(p, &end, i == 3 ? 8 : 10);
        if (errno || end == p || *end != ' ') return NULL;
        p = end + 1;
    }
    return *p ? p : NULL;
}

/* One stat: the file is the one the record describes, and nobody but its
 * group may read it (else the full run must tighten it). */
static int file_as_recorded(const ptc_cfg *cfg, const char *display, const uint64_t v[4])
{
    char *open_path = ptc_cfg_path(cfg, display);
    struct stat st;
    int same = lstat(open_path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == v[0] &&
               mtime_ns(&st) == v[1] && (uint64_t)st.st_ino == v[2] &&
               (uint64_t)(st.st_mode & 07770) == v[3] && !(st.st_mode & 0007);
    free(open_path);
    return same;
}

static int parse_end(const char *line, gen_end *e)
{
    unsigned long long rows, h, d0, d1, d2, w0, w1;
    int sql;
    if (sscanf(line, "E %d %llu %llx %llu %llu %llu %llu %llu", &sql, &rows, &h, &d0, &d1, &d2, &w0, &w1) != 8)
        return -1;
    *e = (gen_end){sql, (long)rows, h, {d0, d1, d2}, {w0, w1}};
    return 0;
}

/* Splits the record into lines in place; checks its head and its end.
 * The count of lines, or 0. */
static size_t split(ptc_buf *b, uint64_t key, char ***lines)
{
    char head[64];
    snprintf(head, sizeof head, GEN_MAGIC "%016" PRIx64 "\n", key);
    size_t hl = strlen(head), n = 0, cap = 0;
    if (b->len < hl || memcmp(b->data, head, hl) != 0 || b->data[b->len - 1] != '\n') return 0;
    *lines = NULL;
    for (char *p = b->data + hl, *end = b->data + b->len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        *nl = '\0';
        if (n == cap) *lines = ptc_xrealloc(*lines, (cap = cap ? cap * 2 : 1024) * sizeof **lines);
        (*lines)[n++] = p;
        p = nl + 1;
    }
    if (!n || (*lines)[n - 1][0] != 'E') { free(*lines); *lines = NULL; return 0; }
    return n;
}

/* Every file as recorded: the count of phones, or -1. */
static long check_all(const ptc_cfg *cfg, char **lines, size_t n)
{
    long phones = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v[4];
        const char *display;
        if (lines[i][0] == 'P' && !lines[i][1]) phones++;
        else if (lines[i][0] != 'F' || !(display = parse_file(lines[i], v)) || !file_as_recorded(cfg, display, v))
            return -1;
    }
    return phones;
}

static void report(const ptc_run_opts *o, ptc_run_stats *st, char **lines, size_t n, long phones,
                   const gen_end *e)
{
    const ptc_run_hooks *h = &o->hooks;
    memset(st, 0, sizeof *st);
    st->phones = (unsigned)phones;
    st->planned = st->committed = 1;
    if (h->start) h->start(h->ctx, st->phones);
    unsigned done = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v[4];
        if (lines[i][0] == 'P') {
            if (h->progress) h->progress(h->ctx, ++done, st->phones);
            continue;
        }
        st->unchanged++;
        if (h->file) h->file(h->ctx, PTC_FILE_UNCHANGED, parse_file(lines[i], v), NULL, 0);
    }
    st->rows = e->sql ? (unsigned)e->rows : 0;
    st->table_unchanged = e->sql;
}

int ptc_gen_replay(const char *path, uint64_t key, const ptc_run_opts *o, const ptc_cfg *cfg,
                   ptc_run_stats *st)
{
    if (!path || !key || !o->force || o->dry_run || o->partial || o->check_only || o->keep_content) return 0;
    ptc_buf b = PTC_BUF_INIT;
    char **lines = NULL;
    size_t n = 0;
    int done = 0;
    gen_end e;
    long phones;
    if (ptc_read_file_max(path, &b, (size_t)1 << 30) != 0 || !(n = split(&b, key, &lines)) ||
        parse_end(lines[n - 1], &e) != 0 || (phones = check_all(cfg, lines, n)) < 0 ||
        !table_as_recorded(&e, o->db_path))
        goto out;
    report(o, st, lines, n, phones, &e);
    done = 1;
out:
    free(lines);
    ptc_buf_free(&b);
    return done;
}

/* ---- writing --------------------------------------------------------------- */

ptc_gen_writer *ptc_gen_writer_new(const char *path, uint64_t key)
{
    if (!path) return NULL;
    unlink(path);
    if (!key) return NULL;
    char *dir = ptc_dirname(path);
    int made = ptc_mkdirs(dir, 0700);
    free(dir);
    if (made != 0) return NULL;
    ptc_gen_writer *w = ptc_xcalloc(1, sizeof *w);
    w->path = ptc_xstrdup(path);
    ptc_buf t = PTC_BUF_INIT;
    ptc_buf_printf(&t, "%s.new", path);
    w->tmp = (char *)ptc_buf_cstr(&t);
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
        if (fd >= 0) close(fd);
        ptc_gen_writer_free(w);
        return NULL;
    }
    fprintf(w->f, GEN_MAGIC "%016" PRIx64 "\n", key);
    return w;
}

void ptc_gen_phone(ptc_gen_writer *w)
{
    if (w && !w->broken) fputs("P\n", w->f);
}

void ptc_gen_file(ptc_gen_writer *w, const char *display, const struct stat *st)
{
    if (!w || w->broken) return;
    if (!st || strchr(display, '\n') || !*display) { w->broken = 1; return; }
    fprintf(w->f, "F %llu %llu %llu %o %s\n", (unsigned long long)st->st_size, (unsigned long long)mtime_ns(st),
            (unsigned long long)st->st_ino, (unsigned)(st->st_mode & 07770), display);
}

void ptc_gen_spoil(ptc_gen_writer *w)
{
    if (w) w->broken = 1;
}

void ptc_gen_finish(ptc_gen_writer *w, int any_sql, long rows, uint64_t rows_hash, const char *db)
{
    if (!w) return;
    uint64_t d[3], wal[2];
    db_stat(db, d, wal);
    fprintf(w->f, "E %d %ld %" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
            any_sql, any_sql ? rows : 0, rows_hash, d[0], d[1], d[2], wal[0], wal[1]);
    int bad = w->broken | ferror(w->f);
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad || rename(w->tmp, w->path) != 0) unlink(w->tmp);
}

void ptc_gen_writer_free(ptc_gen_writer *w)
{
    if (!w) return;
    if (w->f) {
        fclose(w->f);
        unlink(w->tmp);
    }
    free(w->path);
    free(w->tmp);
    free(w);
}
