/* The previous generation record, read phone by phone (include/ptc/gen.h).
 *
 * Opening it reads it once, keeping only what every phone shares: for each
 * phone line's hash the offset of its lines, the include paths, the include
 * files (each checked by one stat) and the end.  A phone's lines are read
 * again when the run asks for them, in list order, so most reads follow
 * the last one without a seek; memory stays a few words a phone. */
#include "ptc/gen.h"
#include "gen_rec.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NO_REUSE UINT32_MAX     /* a line hash seen twice: use neither */

typedef struct prev_include {   /* an include file the old record ends with */
    char *open;                 /* under the root */
    uint64_t v[4];              /* its recorded size, mtime, inode, mode */
    int ok;                     /* as recorded when the record was opened */
    int fd;                     /* opened on first copy, -1 before */
    ptc_buf win;                /* a window of it read ahead ... */
    uint64_t win_at;            /* ... from this offset */
} prev_include;

/* Shares are copied in list order, so their offsets mostly rise: one read
 * of this much serves hundreds of phones. */
#define COPY_WINDOW ((size_t)256 << 10)

struct ptc_gen_prev {
    FILE *f;
    off_t pos;                  /* f's offset, kept here: ftello is an lseek */
    ptc_map at;                 /* line hash -> offset of the phone's first line */
    char **spell;               /* the N lines */
    size_t nspell;
    prev_include *inc;
    size_t ninc;
    gen_end end;
    char *line;                 /* getline's */
    size_t cap;
};

/* The next number and its separating blank: s after it, or NULL. */
static const char *field(const char *s, int base, uint64_t *v)
{
    s = s ? ptc_gen_num(s, base, v) : NULL;
    return s && *s == ' ' ? s + 1 : NULL;
}

/* getline, keeping the offset: the line's length, or -1 at the end. */
static ssize_t next_line(ptc_gen_prev *p)
{
    ssize_t n = getline(&p->line, &p->cap, p->f);
    if (n > 0) p->pos += n;
    return n;
}

static int parse_head(ptc_gen_prev *p, uint64_t env_key)
{
    ssize_t n = next_line(p);
    char want[24];
    snprintf(want, sizeof want, " %016" PRIx64 "\n", env_key);
    return n == 10 + 17 + 17 && strncmp(p->line, "ptc-gen 2 ", 10) == 0 && strcmp(p->line + n - 18, want) == 0
               ? 0 : -1;
}

static void add_spelling(ptc_gen_prev *p, const char *path)
{
    p->spell = ptc_xrealloc(p->spell, (p->nspell + 1) * sizeof *p->spell);
    p->spell[p->nspell++] = ptc_xstrdup(path);
}

static void add_include(ptc_gen_prev *p, const ptc_cfg *cfg, const char *line)
{
    uint64_t v[4];
    const char *display = ptc_gen_parse_file(line, v);
    p->inc = ptc_xrealloc(p->inc, (p->ninc + 1) * sizeof *p->inc);
    prev_include *in = &p->inc[p->ninc++];
    memcpy(in->v, v, sizeof v);
    in->open = display ? ptc_cfg_path(cfg, display) : NULL;
    in->ok = display && ptc_gen_file_as_recorded(cfg, display, v, p->end.at);
    in->fd = -1;
    in->win = (ptc_buf)PTC_BUF_INIT;
    in->win_at = 0;
}

/* The include files: the F lines from the last phone's P to the E line. */
static int read_includes(ptc_gen_prev *p, const ptc_cfg *cfg, off_t from)
{
    if (fseeko(p->f, from, SEEK_SET) != 0) return -1;
    p->pos = from;
    ssize_t n;
    while ((n = next_line(p)) > 0 && p->line[0] == 'F') {
        p->line[n - 1] = '\0';
        add_include(p, cfg, p->line);
    }
    return n > 0 && p->line[0] == 'E' ? 0 : -1;
}

/* One pass over the record: 0 when it ends with its E line. */
static int index_record(ptc_gen_prev *p, const ptc_cfg *cfg)
{
    off_t block = p->pos;
    ssize_t n;
    int ended = 0;
    while (!ended && (n = next_line(p)) > 0) {
        if (p->line[n - 1] != '\n') return -1;
        p->line[n - 1] = '\0';
        switch (p->line[0]) {
        case 'N': add_spelling(p, p->line + 2); break;
        case 'F': case 'I': break;
        case 'P': {
            uint64_t h;
            if (!field(p->line + 2, 16, &h) || block > (off_t)(NO_REUSE - 1)) return -1;
            int ins;
            uint32_t *v = ptc_map_put(&p->at, h, &ins);
            *v = ins ? (uint32_t)block : NO_REUSE;
            block = p->pos;
            break;
        }
        case 'E':
            if (ptc_gen_parse_end(p->line, &p->end) != 0) return -1;
            ended = 1;
            break;
        default: return -1;
        }
    }
    return ended ? read_includes(p, cfg, block) : -1;
}

ptc_gen_prev *ptc_gen_prev_open(const char *path, uint64_t env_key, const ptc_cfg *cfg)
{
    if (!path || !env_key) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    ptc_gen_prev *p = ptc_xcalloc(1, sizeof *p);
    p->f = f;
    if (parse_head(p, env_key) != 0 || index_record(p, cfg) != 0) {
        ptc_gen_prev_free(p);
        return NULL;
    }
    return p;
}

void ptc_gen_prev_free(ptc_gen_prev *p)
{
    if (!p) return;
    if (p->f) fclose(p->f);
    ptc_map_free(&p->at);
    for (size_t i = 0; i < p->nspell; i++) free(p->spell[i]);
    free(p->spell);
    for (size_t i = 0; i < p->ninc; i++) {
        free(p->inc[i].open);
        if (p->inc[i].fd >= 0) close(p->inc[i].fd);
        ptc_buf_free(&p->inc[i].win);
    }
    free(p->inc);
    free(p->line);
    free(p);
}

void ptc_gen_entry_free(ptc_gen_entry *e)
{
    if (e) ptc_buf_free(&e->text);
}

/* ---- one phone ------------------------------------------------------------ */

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int from_hex(const char *s, ptc_buf *out)
{
    if (!strcmp(s, "-")) return 0;
    for (; s[0] && s[1]; s += 2) {
        int hi = hex_digit(s[0]), lo = hex_digit(s[1]);
        if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
        ptc_buf_putc(out, (char)(hi << 4 | lo));
    }
    return *s ? -1 : 0;
}

/* "I CTX FILE OFF LEN N HDR" into o (path and hdr: offsets into e->text). */
static int parse_include(ptc_gen_prev *p, ptc_gen_entry *e, ptc_gen_out *o, size_t *path_at, size_t *hdr_at)
{
    uint64_t ctx, file, off, len, spell;
    const char *s = field(p->line + 2, 10, &ctx);
    s = field(field(field(field(s, 10, &file), 10, &off), 10, &len), 10, &spell);
    if (!s || ctx <= PTC_CTX_GENERAL || ctx == PTC_CTX_PHONEPROV || ctx >= PTC_CTX_COUNT || spell >= p->nspell)
        return -1;
    *o = (ptc_gen_out){.ctx = (int)ctx, .file = file < p->ninc && p->inc[file].ok ? (int)file : -1,
                       .off = off, .len = len};
    *path_at = e->text.len;
    ptc_buf_puts(&e->text, p->spell[spell]);
    ptc_buf_putc(&e->text, '\0');
    *hdr_at = e->text.len;
    if (from_hex(s, &e->text) != 0) return -1;
    ptc_buf_putc(&e->text, '\0');
    return 0;
}

static int parse_facts(const char *line, ptc_gen_facts *f)
{
    uint64_t sql, nrows;
    const char *s = field(field(field(line + 2, 16, &f->line_hash), 16, &f->account_hash), 10, &sql);
    s = s ? ptc_gen_num(s, 10, &nrows) : NULL;
    if (!s || sql > 1 || nrows > PTC_MAX_LINES) return -1;
    f->sql = (int)sql;
    f->nrows = (int)nrows;
    for (int i = 0; i < f->nrows; i++) {
        if (*s != ' ' || !(s = ptc_gen_num(s + 1, 16, &f->digest[i]))) return -1;
    }
    return *s ? -1 : 0;
}

/* Reads the phone's lines from the current offset into e. */
static int read_phone(ptc_gen_prev *p, ptc_gen_entry *e)
{
    size_t path_at[PTC_CTX_COUNT], hdr_at[PTC_CTX_COUNT];
    e->nout = 0;
    e->text.len = 0;
    ssize_t n;
    while ((n = next_line(p)) > 0 && p->line[n - 1] == '\n') {
        p->line[n - 1] = '\0';
        if (p->line[0] == 'N') continue;
        if (p->line[0] == 'P') break;
        if (e->nout == PTC_CTX_COUNT) return -1;
        ptc_gen_out *o = &e->out[e->nout];
        if (p->line[0] == 'I') {
            if (parse_include(p, e, o, &path_at[e->nout], &hdr_at[e->nout]) != 0) return -1;
        } else {
            const char *display = p->line[0] == 'F' ? ptc_gen_parse_file(p->line, o->st) : NULL;
            if (!display) return -1;
            o->ctx = PTC_CTX_PHONEPROV;
            o->file = -1;
            if (!ptc_gen_settled(o->st[1], p->end.at)) o->st[0] = UINT64_MAX;    /* never as recorded */
            path_at[e->nout] = e->text.len;
            ptc_buf_puts(&e->text, display);
            ptc_buf_putc(&e->text, '\0');
            hdr_at[e->nout] = path_at[e->nout] + strlen(display);      /* "" */
        }
        e->nout++;
    }
    if (n <= 0 || p->line[0] != 'P' || parse_facts(p->line, &e->facts) != 0) return -1;
    for (int i = 0; i < e->nout; i++) {
        e->out[i].path = e->text.data + path_at[i];
        e->out[i].hdr = e->text.data + hdr_at[i];
    }
    return 0;
}

int ptc_gen_prev_get(ptc_gen_prev *p, uint64_t line_hash, ptc_gen_entry *e)
{
    uint32_t *at = p ? ptc_map_get(&p->at, line_hash) : NULL;
    if (!at || *at == NO_REUSE) return 0;
    if (p->pos != (off_t)*at) {
        if (fseeko(p->f, (off_t)*at, SEEK_SET) != 0) return 0;
        p->pos = (off_t)*at;
    }
    return read_phone(p, e) == 0 && e->facts.line_hash == line_hash;
}

/* Opens the include file once: the file the record describes, not one put
 * there since. */
static int open_include(prev_include *in)
{
    struct stat st;
    in->fd = open(in->open, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in->fd < 0 || fstat(in->fd, &st) != 0 || (uint64_t)st.st_size != in->v[0] ||
        (uint64_t)st.st_ino != in->v[2] || ptc_gen_mtime_ns(&st) != in->v[1]) {
        in->ok = 0;
        return -1;
    }
    return 0;
}

/* Reads [off, off + want) of the file into the window (want >= len asked). */
static int fill_window(prev_include *in, uint64_t off, size_t want)
{
    in->win.len = 0;
    ptc_buf_reserve(&in->win, want);
    in->win_at = off;
    while (in->win.len < want) {
        ssize_t r = pread(in->fd, in->win.data + in->win.len, want - in->win.len, (off_t)(off + in->win.len));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        in->win.len += (size_t)r;
    }
    return 0;
}

int ptc_gen_prev_copy(ptc_gen_prev *p, int file, uint64_t off, uint64_t len, ptc_sink *s)
{
    if (!p || file < 0 || (size_t)file >= p->ninc || !p->inc[file].ok) return -1;
    prev_include *in = &p->inc[file];
    if (off > in->v[0] || len > in->v[0] - off) return -1;
    if (!len) return 0;
    if (in->fd < 0 && open_include(in) != 0) return -1;
    if (off < in->win_at || off + len > in->win_at + in->win.len) {
        uint64_t rest = in->v[0] - off;
        size_t want = (size_t)(rest < COPY_WINDOW ? rest : len > COPY_WINDOW ? len : COPY_WINDOW);
        if (fill_window(in, off, want) != 0) {
            in->ok = 0;
            return -1;
        }
    }
    ptc_sink_put(s, in->win.data + (off - in->win_at), (size_t)len);
    return 0;
}

int ptc_gen_prev_table_is(ptc_gen_prev *p, uint64_t h, long rows, const char *db)
{
    return p && p->end.sql && p->end.rows == rows && p->end.hash == h && ptc_gen_table_as_recorded(&p->end, db);
}
