/* The generation index (include/ptc/gen.h).
 *
 * The record is text, one event a line, in the order the run reported them:
 *
 *   ptc-gen 2 KEY ENVKEY                 keys: 16 hex digits each
 *   F SIZE MTIME_NS INO MODE PATH        an output, as shown (before --root)
 *   N PATH                               an include path, numbered from 0
 *   I CTX FILE OFF LEN N HDR             a phone's share of include file FILE
 *                                        (through path N; HDR in hex, - for none)
 *   P LINE ACCOUNT SQL NROWS DIGEST...   a phone done (a progress dot): its facts
 *   E SQL ROWS HASH DBSIZE DBMTIME DBINO WALSIZE WALMTIME AT  the end
 *
 * A phone's F, N and I lines come before its P line; the F lines after the
 * last P are the include files, in the plan's order.  A record without its
 * E line is torn and is not used.  AT is when it was finished: a stat
 * newer than AT less a clock tick is not trusted (ptc_gen_settled). */
#include "ptc/gen.h"
#include "gen_rec.h"
#include "ptc/buf.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/sql.h"
#include "ptc/templates.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GEN_MAGIC "ptc-gen 2 "

uint64_t ptc_gen_mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

uint64_t ptc_gen_tick_ns(void)
{
    static _Atomic uint64_t known;          /* the same for the whole process */
    uint64_t tick = atomic_load_explicit(&known, memory_order_relaxed);
    if (tick) return tick;
    struct timespec r;
    tick = clock_getres(CLOCK_REALTIME_COARSE, &r) == 0 ? 2 * ((uint64_t)r.tv_sec * 1000000000u + (uint64_t)r.tv_nsec)
                                                       : 20000000u;
    tick = tick < 1000000u ? 1000000u : tick > 20000000u ? 20000000u : tick;
    atomic_store_explicit(&known, tick, memory_order_relaxed);
    return tick;
}

int ptc_gen_settled(uint64_t mtime_ns, uint64_t at)
{
    uint64_t tick = mtime_ns % 1000000000u ? ptc_gen_tick_ns() : PTC_GEN_COARSE_NS;
    return mtime_ns < at && at - mtime_ns > tick;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Overflow is ruled out by the count of digits (a division a digit was a
 * tenth of a rerun): 16 hex and 21 octal digits fit; a 20th decimal digit
 * is checked.  One loop per base: this parses every number of a record. */
static const char *parse_dec(const char *s, uint64_t *v)
{
    const char *start = s;
    uint64_t x = 0;
    unsigned d;
    while ((d = (unsigned)(unsigned char)*s - '0') < 10) {
        if (s - start == 19 && (x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))) return NULL;
        x = x * 10 + d;
        s++;
    }
    *v = x;
    return s > start && s - start <= 20 ? s : NULL;
}

static const char *parse_pow2(const char *s, unsigned shift, uint64_t *v)
{
    const char *start = s;
    uint64_t x = 0;
    for (;; s++) {
        unsigned c = (unsigned char)*s, d = c - '0';
        if (d >= 10) d = c - 'a' < 6 ? c - 'a' + 10 : 99;
        if (d >> shift) break;
        x = x << shift | d;
    }
    *v = x;
    return s > start && (size_t)(s - start) <= (shift == 4 ? 16u : 21u) ? s : NULL;
}

const char *ptc_gen_num(const char *s, int base, uint64_t *v)
{
    return base == 10 ? parse_dec(s, v) : parse_pow2(s, base == 16 ? 4 : 3, v);
}

/* The writer's lines are built by hand: printf's parsing of its format was
 * a sixth of a rerun. */
static void put_num(ptc_buf *b, uint64_t v, unsigned base)
{
    char t[24];
    int n = 24;
    if (base == 8) do { t[--n] = (char)('0' + (v & 7)); v >>= 3; } while (v);
    else do { t[--n] = (char)('0' + v % 10); v /= 10; } while (v);
    t[--n] = ' ';
    ptc_buf_put(b, t + n, (size_t)(24 - n));
}

static void put_hex16(ptc_buf *b, uint64_t v)
{
    char t[17];
    for (int i = 15; i >= 0; i--, v >>= 4) t[i] = "0123456789abcdef"[v & 15];
    t[16] = ' ';
    ptc_buf_put(b, t, 17);
}

static void put_line(ptc_gen_writer *w)
{
    ptc_buf_putc(&w->line, '\n');
    fwrite(w->line.data, 1, w->line.len, w->f);
    w->line.len = 0;
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

uint64_t ptc_gen_key(const ptc_run_opts *o, const ptc_cfg *cfg, const ptc_src *list, uint64_t *env_key)
{
    uint64_t h = hash_str(PTC_HASH64_INIT, GEN_MAGIC);
    struct stat st;
    *env_key = 0;
    /* Another ptc may render differently: its binary is part of the key. */
    if (stat("/proc/self/exe", &st) != 0) return 0;
    uint64_t exe[3] = {(uint64_t)st.st_size, ptc_gen_mtime_ns(&st), (uint64_t)st.st_ino};
    h = ptc_hash64_update(h, exe, sizeof exe);
    h = hash_str(h, cfg->root);
    h = hash_str(h, ptc_cfg_base_dir(cfg));
    for (size_t i = 0; i < cfg->nvars; i++) {
        h = hash_str(h, cfg->vars[i].name);
        h = hash_str(h, cfg->vars[i].value);
    }
    h = hash_str(h, o->sip_server_ipv4);
    h = hash_str(h, o->db_path);
    if (hash_templates(&h, cfg) != 0) return 0;
    *env_key = h ? h : 1;
    h = ptc_hash64_update(*env_key, &list->len, sizeof list->len);
    h = ptc_hash64_update(h, list->text, list->len);
    return h ? h : 1;
}

uint64_t ptc_gen_line_hash(const char *line, size_t n)
{
    return ptc_hash64(line, n);
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

static void db_stat(const char *db, uint64_t out_db[3], uint64_t out_wal[2])
{
    struct stat st;
    memset(out_db, 0, 3 * sizeof *out_db);
    memset(out_wal, 0, 2 * sizeof *out_wal);
    if (ptc_sql_is_pg(db)) return;
    if (stat(db, &st) == 0) {
        out_db[0] = (uint64_t)st.st_size;
        out_db[1] = ptc_gen_mtime_ns(&st);
        out_db[2] = (uint64_t)st.st_ino;
    }
    ptc_buf wal = PTC_BUF_INIT;
    ptc_buf_printf(&wal, "%s-wal", db);
    if (stat(ptc_buf_cstr(&wal), &st) == 0) {
        out_wal[0] = (uint64_t)st.st_size;
        out_wal[1] = ptc_gen_mtime_ns(&st);
    }
    ptc_buf_free(&wal);
}

/* The table as recorded: a file by its stat, PostgreSQL by its rows. */
int ptc_gen_table_as_recorded(const gen_end *e, const char *db)
{
    if (ptc_sql_is_pg(db)) return e->sql && ptc_db_table_is(db, e->hash, e->rows);
    uint64_t now_db[3], now_wal[2];
    db_stat(db, now_db, now_wal);
    return memcmp(now_db, e->db, sizeof now_db) == 0 && memcmp(now_wal, e->wal, sizeof now_wal) == 0 &&
           ptc_gen_settled(e->db[1], e->at) && (!e->wal[0] || ptc_gen_settled(e->wal[1], e->at));
}

/* "F SIZE MTIME INO MODE PATH": the numbers into v, the path's start. */
const char *ptc_gen_parse_file(const char *line, uint64_t v[4])
{
    const char *p = line + 2;
    for (int i = 0; i < 4; i++) {
        p = ptc_gen_num(p, i == 3 ? 8 : 10, &v[i]);
        if (!p || *p != ' ') return NULL;
        p++;
    }
    return *p ? p : NULL;
}

/* One stat: the file is the one the record describes, and nobody but its
 * group may read it (else the full run must tighten it). */
int ptc_gen_file_as_recorded(const ptc_cfg *cfg, const char *display, const uint64_t v[4], uint64_t at)
{
    if (!ptc_gen_settled(v[1], at)) return 0;
    char *open_path = ptc_cfg_path(cfg, display);
    struct stat st;
    int same = lstat(open_path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == v[0] &&
               ptc_gen_mtime_ns(&st) == v[1] && (uint64_t)st.st_ino == v[2] &&
               (uint64_t)(st.st_mode & 07770) == v[3] && !(st.st_mode & 0007);
    free(open_path);
    return same;
}

int ptc_gen_parse_end(const char *line, gen_end *e)
{
    unsigned long long rows, h, d0, d1, d2, w0, w1, at;
    int sql, end = 0;
    if (sscanf(line, "E %d %llu %llx %llu %llu %llu %llu %llu %llu%n", &sql, &rows, &h, &d0, &d1, &d2, &w0, &w1,
               &at, &end) != 9 || line[end])
        return -1;
    *e = (gen_end){sql, (long)rows, h, {d0, d1, d2}, {w0, w1}, at};
    return 0;
}

/* The record's lines one at a time, so a replay holds one line, not the
 * record (19 MB at 100,000 phones). */
typedef struct rec_reader {
    FILE *f;
    char *line;
    size_t cap;
} rec_reader;

/* The next line without its newline, or NULL at the end or on a torn line. */
static const char *next_line(rec_reader *r)
{
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n <= 0 || r->line[n - 1] != '\n') return NULL;
    r->line[n - 1] = '\0';
    return r->line;
}

static int check_head(rec_reader *r, uint64_t key)
{
    char head[64];
    snprintf(head, sizeof head, GEN_MAGIC "%016" PRIx64 " ", key);
    const char *l = next_line(r);
    return l && strlen(l) == strlen(head) + 16 && strncmp(l, head, strlen(head)) == 0 ? 0 : -1;
}

/* The E line, read from the end: the files are judged by its time. */
static int read_end(int fd, gen_end *e)
{
    struct stat st;
    char tail[256];
    if (fstat(fd, &st) != 0 || st.st_size < 2) return -1;
    size_t n = (size_t)(st.st_size < (off_t)sizeof tail ? st.st_size : (off_t)sizeof tail);
    if (pread(fd, tail, n, st.st_size - (off_t)n) != (ssize_t)n || tail[n - 1] != '\n') return -1;
    tail[n - 1] = '\0';
    char *l = strrchr(tail, '\n');
    return l && ptc_gen_parse_end(l + 1, e) == 0 ? 0 : -1;
}

static int same_end(const gen_end *a, const gen_end *b)
{
    return a->sql == b->sql && a->rows == b->rows && a->hash == b->hash && a->at == b->at &&
           !memcmp(a->db, b->db, sizeof a->db) && !memcmp(a->wal, b->wal, sizeof a->wal);
}

/* First pass: every file as recorded and the E line last (the one read
 * first).  The count of phones, or -1. */
static long check_all(rec_reader *r, const ptc_cfg *cfg, const gen_end *e)
{
    long phones = 0;
    const char *l;
    while ((l = next_line(r)) && l[0] != 'E') {
        uint64_t v[4];
        const char *display;
        if (l[0] == 'P' && l[1] == ' ') phones++;
        else if (l[0] == 'N' || l[0] == 'I') continue;
        else if (l[0] != 'F' || !(display = ptc_gen_parse_file(l, v)) ||
                 !ptc_gen_file_as_recorded(cfg, display, v, e->at))
            return -1;
    }
    gen_end again;
    if (!l || ptc_gen_parse_end(l, &again) != 0 || !same_end(&again, e) || next_line(r) || !feof(r->f))
        return -1;
    return phones;
}

/* Second pass, once everything checked: the run's report from the record. */
static void report(rec_reader *r, const ptc_run_opts *o, ptc_run_stats *st, long phones, const gen_end *e)
{
    const ptc_run_hooks *h = &o->hooks;
    memset(st, 0, sizeof *st);
    st->phones = st->reused = (unsigned)phones;
    st->planned = st->committed = 1;
    if (h->start) h->start(h->ctx, st->phones);
    unsigned done = 0;
    const char *l;
    next_line(r);                                   /* the head */
    while ((l = next_line(r)) && l[0] != 'E') {
        uint64_t v[4];
        if (l[0] == 'P') {
            if (h->progress) h->progress(h->ctx, ++done, st->phones);
            continue;
        }
        if (l[0] == 'N' || l[0] == 'I') continue;
        st->unchanged++;
        if (h->file) h->file(h->ctx, PTC_FILE_UNCHANGED, ptc_gen_parse_file(l, v), NULL, 0);
    }
    st->rows = e->sql ? (unsigned)e->rows : 0;
    st->table_unchanged = e->sql;
}

int ptc_gen_replay(const char *path, uint64_t key, const ptc_run_opts *o, const ptc_cfg *cfg,
                   ptc_run_stats *st)
{
    if (!path || !key || !o->force || o->dry_run || o->partial || o->check_only || o->keep_content) return 0;
    rec_reader r = {0};
    int done = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    gen_end e;
    long phones;
    if (fd < 0 || read_end(fd, &e) != 0 || !(r.f = fdopen(fd, "r"))) goto out;
    fd = -1;
    if (check_head(&r, key) != 0 || (phones = check_all(&r, cfg, &e)) < 0 ||
        !ptc_gen_table_as_recorded(&e, o->db_path) || fseeko(r.f, 0, SEEK_SET) != 0)
        goto out;
    report(&r, o, st, phones, &e);
    done = 1;
out:
    if (fd >= 0) close(fd);
    if (r.f) fclose(r.f);
    free(r.line);
    return done;
}

/* ---- writing --------------------------------------------------------------- */

ptc_gen_writer *ptc_gen_writer_new(const char *path, uint64_t key, uint64_t env_key)
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
    w->whole_seconds = 1;
    ptc_buf t = PTC_BUF_INIT;
    ptc_buf_printf(&t, "%s.new", path);
    w->tmp = (char *)ptc_buf_cstr(&t);
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
        if (fd >= 0) close(fd);
        ptc_gen_writer_free(w);
        return NULL;
    }
    fprintf(w->f, GEN_MAGIC "%016" PRIx64 " %016" PRIx64 "\n", key, env_key);
    return w;
}

void ptc_gen_phone(ptc_gen_writer *w, const ptc_gen_facts *f)
{
    if (!w || w->broken) return;
    ptc_buf_puts(&w->line, "P ");
    put_hex16(&w->line, f->line_hash);
    put_hex16(&w->line, f->account_hash);
    ptc_buf_putc(&w->line, f->sql ? '1' : '0');
    put_num(&w->line, (uint64_t)f->nrows, 10);
    for (int i = 0; i < f->nrows && i < PTC_MAX_LINES; i++) {
        ptc_buf_putc(&w->line, ' ');
        put_hex16(&w->line, f->digest[i]);
        w->line.len--;
    }
    put_line(w);
}

void ptc_gen_include(ptc_gen_writer *w, int ctx, size_t file, uint64_t off, uint64_t len, const char *path,
                     const char *hdr)
{
    if (!w || w->broken) return;
    if (strchr(path, '\n') || !*path) { w->broken = 1; return; }
    int ins;
    uint32_t *n = ptc_map_put(&w->spelled, ptc_hash64(path, strlen(path)), &ins);
    if (ins) {
        *n = w->nspelled++;
        ptc_buf_puts(&w->line, "N ");
        ptc_buf_puts(&w->line, path);
        put_line(w);
    }
    ptc_buf_putc(&w->line, 'I');
    put_num(&w->line, (uint64_t)ctx, 10);
    put_num(&w->line, file, 10);
    put_num(&w->line, off, 10);
    put_num(&w->line, len, 10);
    put_num(&w->line, *n, 10);
    ptc_buf_putc(&w->line, ' ');
    if (!*hdr) ptc_buf_putc(&w->line, '-');
    for (const unsigned char *c = (const unsigned char *)hdr; *c; c++) {
        ptc_buf_putc(&w->line, "0123456789abcdef"[*c >> 4]);
        ptc_buf_putc(&w->line, "0123456789abcdef"[*c & 15]);
    }
    put_line(w);
}

static void note_mtime(ptc_gen_writer *w, uint64_t mtime_ns)
{
    if (mtime_ns > w->newest) w->newest = mtime_ns;
    if (mtime_ns % 1000000000u) w->whole_seconds = 0;
}

void ptc_gen_file(ptc_gen_writer *w, const char *display, const struct stat *st)
{
    if (!w || w->broken) return;
    if (!st || strchr(display, '\n') || !*display) { w->broken = 1; return; }
    note_mtime(w, ptc_gen_mtime_ns(st));
    ptc_buf_putc(&w->line, 'F');
    put_num(&w->line, (uint64_t)st->st_size, 10);
    put_num(&w->line, ptc_gen_mtime_ns(st), 10);
    put_num(&w->line, (uint64_t)st->st_ino, 10);
    put_num(&w->line, (uint64_t)(st->st_mode & 07770), 8);
    ptc_buf_putc(&w->line, ' ');
    ptc_buf_puts(&w->line, display);
    put_line(w);
}

/* The record's time.  With sub-second stamps, waits (a tick: 8 ms here,
 * 20 at most) until every file it records has settled, so the next run
 * trusts them all; whole-second stamps are not waited for: those files are
 * checked by content once more next time. */
static uint64_t settle(const ptc_gen_writer *w)
{
    uint64_t now = now_ns(), tick = ptc_gen_tick_ns();
    if (w->whole_seconds || w->newest + tick < now) return now;
    uint64_t wait = w->newest + tick + 1 - now;
    if (wait > tick + 1) wait = tick + 1;       /* a clock gone back */
    struct timespec ts = {0, (long)wait};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) continue;
    return now_ns();
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
    if (d[0]) note_mtime(w, d[1]);
    if (wal[0]) note_mtime(w, wal[1]);
    fprintf(w->f, "E %d %ld %" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
            any_sql, any_sql ? rows : 0, rows_hash, d[0], d[1], d[2], wal[0], wal[1], settle(w));
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
    ptc_map_free(&w->spelled);
    ptc_buf_free(&w->line);
    free(w->path);
    free(w->tmp);
    free(w);
}
