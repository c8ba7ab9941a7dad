/* bench/baseline: the physical limit for ptc's output, and tree checks.
 *
 *   baseline plain  REF DEST   write REF's files into DEST: mkdir, then
 *                              open/write/close per file, nothing else
 *   baseline minimal REF DEST  the least an atomic replacement takes: mkdir,
 *                              then per file a temporary file beside it,
 *                              write, close, rename; no manifest, no fsync
 *                              (issue 17's limit)
 *   baseline rename REF DEST   the same bytes with ptc's commit discipline
 *                              (src/run/output.c, src/run/commit.c, runtime/fsutil.c):
 *                                mkdir -p each output directory
 *                                intent record DEST/.ptc-intent, atomic
 *                                  (temp, write, fsync, close, rename)
 *                                the manifest DEST/.ptc-commit.new opened
 *                                  and streamed (stdio): R\ttmp\tfinal
 *                                per file: mkostemp .NAME.ptc-XXXXXX beside
 *                                  it, fchmod, write, close, manifest line
 *                                one syncfs per file system
 *                                S\t1, END; fflush, fsync, close; rename to
 *                                  .ptc-commit (the commit point); fsync
 *                                  of its directory
 *                                read the manifest back, rename each temp
 *                                  file into place; one fsync per output
 *                                  directory (ptc: one each time the
 *                                  directory changes between lines)
 *                                unlink the manifest and the intent record
 *   baseline cmp    A B [REL]  exit 1 (and list up to 10) if the trees hold
 *                              other files or other bytes; REL: a file
 *                              that must exist in both but may differ
 *   baseline snap   DIR        one line per file: path inode mtime size
 *
 * REF is read into memory first (not timed); plain and rename print the
 * microseconds of the write phase alone on stdout.  Every walk skips the
 * subdirectory phoneprov/templates (ptc's input) and ptc's own dot files
 * (.ptc-commit, .ptc-intent, .NAME.ptc-XXXXXX); every other file under the
 * tree counts, the SQLite database included (written as plain bytes: the
 * limit for those bytes, not for SQLite).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const skip_dir = "phoneprov/templates";

typedef struct {
    char *rel;                  /* path relative to the tree */
    char *data;
    size_t len;
    mode_t mode;
    ino_t ino;
    struct timespec mtime;
} file;

typedef struct {
    file *v;
    size_t n, cap;
} tree;

static void die(const char *what, const char *path)
{
    fprintf(stderr, "baseline: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "baseline: out of memory\n"); exit(2); }
    return p;
}

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = xmalloc(la + lb + lc + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static int is_ptc_dotfile(const char *name)
{
    size_t n = strlen(name);
    if (!strcmp(name, ".ptc-commit") || !strcmp(name, ".ptc-intent")) return 1;
    return name[0] == '.' && n > 12 && memcmp(name + n - 11, ".ptc-", 5) == 0;
}

static void read_all(const char *path, file *f)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) die("cannot stat", path);
    f->data = xmalloc((size_t)st.st_size);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, f->data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("cannot read", path);
        got += (size_t)r;
    }
    f->len = got;
    close(fd);
}

/* Walks root/rel; with load, keeps every file's bytes. */
static void walk(tree *t, const char *root, const char *rel, int load)
{
    char *dir = *rel ? cat3(root, "/", rel) : cat3(root, "", "");
    DIR *d = opendir(dir);
    if (!d) die("cannot open directory", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_ptc_dotfile(e->d_name)) continue;
        char *r = *rel ? cat3(rel, "/", e->d_name) : cat3(e->d_name, "", "");
        char *full = cat3(root, "/", r);
        struct stat st;
        if (lstat(full, &st) != 0) die("cannot stat", full);
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(r, skip_dir) != 0) walk(t, root, r, load);
            free(r);
        } else if (S_ISREG(st.st_mode)) {
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 1024;
                file *nv = realloc(t->v, t->cap * sizeof *t->v);
                if (!nv) { fprintf(stderr, "baseline: out of memory\n"); exit(2); }
                t->v = nv;
            }
            file *f = &t->v[t->n++];
            memset(f, 0, sizeof *f);
            f->rel = r;
            f->mode = st.st_mode & 07777;
            f->ino = st.st_ino;
            f->mtime = st.st_mtim;
            f->len = (size_t)st.st_size;
            if (load) read_all(full, f);
        } else {
            free(r);
        }
        free(full);
    }
    closedir(d);
    free(dir);
}

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(((const file *)a)->rel, ((const file *)b)->rel);
}

static void load_tree(tree *t, const char *root, int load)
{
    memset(t, 0, sizeof *t);
    walk(t, root, "", load);
    qsort(t->v, t->n, sizeof *t->v, cmp_rel);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void write_all(int fd, const char *p, size_t n, const char *path)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) die("cannot write", path);
        p += w;
        n -= (size_t)w;
    }
}

/* ---- the output directories ----------------------------------------------- */

typedef struct {
    char **v;
    size_t n;
} strs;

/* The distinct directories holding files, absolute under dest (sorted
 * input makes equal directories adjacent). */
static strs file_dirs(const tree *t, const char *dest)
{
    strs d = { xmalloc((t->n + 1) * sizeof(char *)), 0 };
    for (size_t i = 0; i < t->n; i++) {
        char *full = cat3(dest, "/", t->v[i].rel);
        *strrchr(full, '/') = '\0';
        if (d.n && !strcmp(d.v[d.n - 1], full)) { free(full); continue; }
        int dup = 0;
        for (size_t k = 0; k < d.n && !dup; k++) dup = !strcmp(d.v[k], full);
        if (dup) free(full);
        else d.v[d.n++] = full;
    }
    return d;
}

static void mkdirs(const char *path)
{
    char *p = cat3(path, "", "");
    for (char *s = p + 1; ; s++) {
        if (*s != '/' && *s != '\0') continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) die("cannot create directory", p);
        *s = saved;
        if (!saved) break;
    }
    free(p);
}

/* ---- plain ---------------------------------------------------------------- */

static double run_plain(const tree *t, const char *dest)
{
    char **full = xmalloc((t->n + 1) * sizeof *full);     /* paths built before the clock */
    for (size_t i = 0; i < t->n; i++) full[i] = cat3(dest, "/", t->v[i].rel);
    strs dirs = file_dirs(t, dest);
    double t0 = now_us();
    for (size_t i = 0; i < dirs.n; i++) mkdirs(dirs.v[i]);
    for (size_t i = 0; i < t->n; i++) {
        int fd = open(full[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, t->v[i].mode);
        if (fd < 0) die("cannot create", full[i]);
        write_all(fd, t->v[i].data, t->v[i].len, full[i]);
        if (close(fd) != 0) die("cannot close", full[i]);
    }
    return now_us() - t0;
}

/* ---- minimal: temp + rename, nothing else ---------------------------------- */

static double run_minimal(const tree *t, const char *dest)
{
    char **full = xmalloc((t->n + 1) * sizeof *full), **tmp = xmalloc((t->n + 1) * sizeof *tmp);
    for (size_t i = 0; i < t->n; i++) {        /* names built before the clock */
        full[i] = cat3(dest, "/", t->v[i].rel);
        tmp[i] = cat3(full[i], ".tmp", "");
    }
    strs dirs = file_dirs(t, dest);
    double t0 = now_us();
    for (size_t i = 0; i < dirs.n; i++) mkdirs(dirs.v[i]);
    for (size_t i = 0; i < t->n; i++) {
        int fd = open(tmp[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, t->v[i].mode);
        if (fd < 0) die("cannot create", tmp[i]);
        write_all(fd, t->v[i].data, t->v[i].len, tmp[i]);
        if (close(fd) != 0) die("cannot close", tmp[i]);
        if (rename(tmp[i], full[i]) != 0) die("cannot rename", tmp[i]);
    }
    return now_us() - t0;
}

/* ---- rename: ptc's discipline --------------------------------------------- */

static int mktemp_beside(const char *path, mode_t mode, char **tmp)
{
    const char *slash = strrchr(path, '/');
    size_t dl = (size_t)(slash - path + 1);
    char *name = xmalloc(strlen(path) + 16);
    memcpy(name, path, dl);
    sprintf(name + dl, ".%s.ptc-XXXXXX", slash + 1);
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) die("cannot create a file beside", path);
    if (fchmod(fd, mode) != 0) die("cannot chmod", name);
    *tmp = name;
    return fd;
}

static void write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char *tmp;
    int fd = mktemp_beside(path, mode, &tmp);
    write_all(fd, data, len, tmp);
    if (fsync(fd) != 0) die("cannot fsync", tmp);
    if (close(fd) != 0) die("cannot close", tmp);
    if (rename(tmp, path) != 0) die("cannot rename", tmp);
    free(tmp);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die("cannot open directory", dir);
    fsync(fd);
    close(fd);
}

typedef struct { char *p; size_t len, cap; } sbuf;

static void sb_put(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        char *np = realloc(b->p, b->cap);
        if (!np) { fprintf(stderr, "baseline: out of memory\n"); exit(2); }
        b->p = np;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static double run_rename(const tree *t, const char *dest)
{
    char **full = xmalloc((t->n + 1) * sizeof *full);
    for (size_t i = 0; i < t->n; i++) full[i] = cat3(dest, "/", t->v[i].rel);
    strs dirs = file_dirs(t, dest);
    char *intent = cat3(dest, "/", ".ptc-intent");
    char *pending = cat3(dest, "/", ".ptc-commit.new");
    char *manifest = cat3(dest, "/", ".ptc-commit");
    double t0 = now_us();

    for (size_t i = 0; i < dirs.n; i++) mkdirs(dirs.v[i]);
    mkdirs(dest);
    sbuf ib = {0};
    for (size_t i = 0; i < dirs.n; i++) { sb_put(&ib, dirs.v[i]); sb_put(&ib, "\n"); }
    write_atomic(intent, ib.p ? ib.p : "", ib.len, 0600);
    int mfd = open(pending, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *mf = mfd < 0 ? NULL : fdopen(mfd, "w");
    if (!mf) die("cannot write", pending);

    for (size_t i = 0; i < t->n; i++) {
        char *tmp;
        int fd = mktemp_beside(full[i], t->v[i].mode, &tmp);
        write_all(fd, t->v[i].data, t->v[i].len, tmp);
        if (close(fd) != 0) die("cannot close", tmp);
        if (fprintf(mf, "R\t%s\t%s\n", tmp, full[i]) < 0) die("cannot write", pending);
        free(tmp);
    }

    dev_t *devs = xmalloc((dirs.n + 1) * sizeof *devs);
    size_t ndev = 0;
    for (size_t i = 0; i < dirs.n; i++) {
        struct stat st;
        if (stat(dirs.v[i], &st) != 0) continue;
        int seen = 0;
        for (size_t k = 0; k < ndev && !seen; k++) seen = devs[k] == st.st_dev;
        if (seen) continue;
        devs[ndev++] = st.st_dev;
        int fd = open(dirs.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) { syncfs(fd); close(fd); }
    }

    if (fprintf(mf, "S\t1\nEND\n") < 0 || fflush(mf) != 0 || fsync(fileno(mf)) != 0 || fclose(mf) != 0)
        die("cannot write", pending);
    if (rename(pending, manifest) != 0) die("cannot rename", pending);
    fsync_dir(dest);

    /* apply: read the manifest back, rename, one fsync per directory */
    FILE *in = fopen(manifest, "re");
    if (!in) die("cannot read", manifest);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
        if (line[0] != 'R' || line[1] != '\t') continue;
        char *tab = strchr(line + 2, '\t');
        if (!tab) continue;
        *tab = '\0';
        if (rename(line + 2, tab + 1) != 0) die("cannot rename", line + 2);
    }
    free(line);
    fclose(in);
    for (size_t i = 0; i < dirs.n; i++) fsync_dir(dirs.v[i]);
    unlink(manifest);
    unlink(intent);
    return now_us() - t0;
}

/* ---- cmp, snap ------------------------------------------------------------ */

static int run_cmp(const char *a, const char *b, const char *skip)
{
    tree ta, tb;
    load_tree(&ta, a, 1);
    load_tree(&tb, b, 1);
    size_t i = 0, j = 0;
    int bad = 0;
    while (i < ta.n || j < tb.n) {
        int c = i == ta.n ? 1 : j == tb.n ? -1 : strcmp(ta.v[i].rel, tb.v[j].rel);
        if (c < 0) {
            if (bad++ < 10) fprintf(stderr, "baseline cmp: only in %s: %s\n", a, ta.v[i].rel);
            i++;
        } else if (c > 0) {
            if (bad++ < 10) fprintf(stderr, "baseline cmp: only in %s: %s\n", b, tb.v[j].rel);
            j++;
        } else {
            if (skip && !strcmp(ta.v[i].rel, skip)) { i++; j++; continue; }
            if (ta.v[i].len != tb.v[j].len || memcmp(ta.v[i].data, tb.v[j].data, ta.v[i].len))
                if (bad++ < 10) fprintf(stderr, "baseline cmp: %s differs\n", ta.v[i].rel);
            i++;
            j++;
        }
    }
    if (bad) fprintf(stderr, "baseline cmp: %s and %s: %d difference%s\n", a, b, bad, bad == 1 ? "" : "s");
    else printf("%zu files identical\n", ta.n);
    return bad ? 1 : 0;
}

static int run_snap(const char *dir)
{
    tree t;
    load_tree(&t, dir, 0);
    for (size_t i = 0; i < t.n; i++)
        printf("%s %ju %lld.%09ld %zu\n", t.v[i].rel, (uintmax_t)t.v[i].ino,
               (long long)t.v[i].mtime.tv_sec, t.v[i].mtime.tv_nsec, t.v[i].len);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "snap")) return run_snap(argv[2]);
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "cmp")) return run_cmp(argv[2], argv[3], argv[4]);
    if (argc == 4 && (!strcmp(argv[1], "plain") || !strcmp(argv[1], "rename") || !strcmp(argv[1], "minimal"))) {
        tree t;
        load_tree(&t, argv[2], 1);
        if (t.n == 0) { fprintf(stderr, "baseline: no files under %s\n", argv[2]); return 2; }
        double us = !strcmp(argv[1], "plain") ? run_plain(&t, argv[3])
                  : !strcmp(argv[1], "minimal") ? run_minimal(&t, argv[3]) : run_rename(&t, argv[3]);
        printf("%.0f\n", us);
        return 0;
    }
    fprintf(stderr, "usage: baseline plain|minimal|rename REF DEST | cmp A B [REL] | snap DIR\n");
    return 64;
}
