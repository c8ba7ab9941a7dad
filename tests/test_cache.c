/* The bytecode cache (src/front/cache.c): hit, miss, stale, corrupt, other bytes,
 * unwritable directory, concurrent writers, the file's name and contents. */
#include "testutil.h"
#include "ptc/cache.h"
#include "ptc/bc.h"
#include "ptc/comp.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char tmpl_a[] =
    "menu_name=Cache test\n[general]\nvendor=acme\nprov_file=@MAC@.cfg\n"
    "[sip]\n\\[@ACCOUNT@]\nsecret=@PASSWORD@\n#<201>nat=no\n[phoneprov]\nuser=@USERNAME@\n";
/* the same size as tmpl_a, other bytes */
static const char tmpl_b[] =
    "menu_name=Cache TEST\n[general]\nvendor=acme\nprov_file=@MAC@.cfg\n"
    "[sip]\n\\[@ACCOUNT@]\nsecret=@PASSWORD@\n#<202>nat=no\n[phoneprov]\nuser=@USERNAME@\n";

static char work[PATH_MAX];     /* a fresh temporary directory per test */
static char cdir[PATH_MAX + 16];

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[PATH_MAX + 256];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(work, sizeof work, "%s/ptc-test-cache-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(work));
    snprintf(cdir, sizeof cdir, "%s/cache", work);
}

static void teardown(void)
{
    rm_rf(work);
}

static ptc_src *src_of(const char *text)
{
    return ptc_src_from_mem("t.conf", text, strlen(text));
}

/* The program through the cache; must succeed. */
static ptc_prog *get(ptc_cache *c, ptc_src *src)
{
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_prog *p = ptc_cache_get(c, src, &d);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(d.errors, 0);
    return p;
}

/* What the template compiles to, encoded. */
static void expected_bytes(ptc_src *src, ptc_buf *out)
{
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_prog *p = ptc_comp_source(src, &d);
    ck_assert_ptr_nonnull(p);
    ptc_bc_encode(p, out);
    ptc_prog_free(p);
}

static void assert_prog_is(const ptc_prog *p, ptc_src *src)
{
    ptc_buf got = PTC_BUF_INIT, want = PTC_BUF_INIT;
    ptc_bc_encode(p, &got);
    expected_bytes(src, &want);
    ck_assert(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
    ptc_buf_free(&got);
    ptc_buf_free(&want);
}

/* The cache file for src holds exactly the template's compiled program. */
static void assert_file_is(const char *path, ptc_src *src)
{
    ptc_buf got = PTC_BUF_INIT, want = PTC_BUF_INIT;
    ck_assert_msg(ptc_read_file(path, &got) == 0, "cannot read %s", path);
    expected_bytes(src, &want);
    ck_assert(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
    ptc_buf_free(&got);
    ptc_buf_free(&want);
}

static unsigned count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* ---- hit and miss --------------------------------------------------------- */

START_TEST(miss_then_hit)
{
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog *p = get(&c, src);
    ck_assert_uint_eq(c.misses, 1);
    ck_assert_uint_eq(c.hits, 0);
    ck_assert_uint_eq(c.stores, 1);
    ptc_prog_free(p);

    p = get(&c, src);
    ck_assert_uint_eq(c.hits, 1);
    ck_assert_uint_eq(c.misses, 1);
    ck_assert_uint_eq(c.stores, 1);
    assert_prog_is(p, src);
    ptc_prog_free(p);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(hit_from_another_process_cache)
{
    /* a fresh ptc_cache (another run) finds what the first one stored */
    ptc_cache c1, c2;
    ptc_cache_init(&c1, cdir);
    ptc_cache_init(&c2, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c1, src));
    ptc_prog *p = get(&c2, src);
    ck_assert_uint_eq(c2.hits, 1);
    ck_assert_uint_eq(c2.misses, 0);
    assert_prog_is(p, src);
    ptc_prog_free(p);
    ptc_src_free(src);
    ptc_cache_free(&c1);
    ptc_cache_free(&c2);
}
END_TEST

START_TEST(log_says_why)
{
    char *log = NULL;
    size_t loglen = 0;
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    c.log = open_memstream(&log, &loglen);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c, src));
    ptc_prog_free(get(&c, src));
    fclose(c.log);
    ck_assert_str_eq(log, "ptc: cache miss for t.conf: not compiled yet\n"
                          "ptc: cache store for t.conf\n");
    free(log);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

/* ---- the file ------------------------------------------------------------- */

START_TEST(file_name_is_hash_and_size)
{
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    char *path = ptc_cache_path(&c, src);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/%016llx-%llx.ptcb", cdir,
             (unsigned long long)ptc_hash64(tmpl_a, strlen(tmpl_a)),
             (unsigned long long)strlen(tmpl_a));
    ck_assert_str_eq(path, want);
    ck_assert_uint_eq(strlen(tmpl_a), 141);
    ck_assert_str_eq(path + strlen(path) - 8, "-8d.ptcb");   /* the size in hex */
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(store_creates_dir_and_one_private_file)
{
    snprintf(cdir, sizeof cdir, "%s/a/b/c", work);
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c, src));
    char *path = ptc_cache_path(&c, src);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(cdir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_uint_eq(count_entries(cdir), 1);    /* no temporary left */
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(file_holds_only_the_compiled_template)
{
    /* the file is exactly the template's encoded program: compiled from the
     * template alone, it cannot hold phone data */
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c, src));
    char *path = ptc_cache_path(&c, src);
    assert_file_is(path, src);
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

/* ---- misses that replace the file ----------------------------------------- */

/* Stores tmpl_a, damages its file with damage(), then loads again: a miss,
 * a correct program, and the file replaced by a good one. */
static void check_recovers(void (*damage)(const char *path), const char *reason)
{
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c, src));
    char *path = ptc_cache_path(&c, src);
    damage(path);

    char *log = NULL;
    size_t loglen = 0;
    c.log = open_memstream(&log, &loglen);
    ptc_prog *p = get(&c, src);
    fclose(c.log);
    ck_assert_uint_eq(c.hits, 0);
    ck_assert_uint_eq(c.misses, 2);
    ck_assert_uint_eq(c.stores, 2);
    assert_prog_is(p, src);
    assert_file_is(path, src);
    ck_assert_msg(strstr(log, reason) != NULL, "log \"%s\", want \"%s\"", log, reason);
    ptc_prog_free(p);

    p = get(&c, src);                           /* and now it hits */
    ck_assert_uint_eq(c.hits, 1);
    ptc_prog_free(p);
    free(log);
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}

static void truncate_half(const char *path)
{
    ptc_buf b = PTC_BUF_INIT;
    ck_assert_int_eq(ptc_read_file(path, &b), 0);
    write_bytes(path, b.data, b.len / 2);
    ptc_buf_free(&b);
}

static void truncate_empty(const char *path)
{
    write_bytes(path, "", 0);
}

static void garbage(const char *path)
{
    char junk[700];
    uint32_t x = 7;
    for (size_t i = 0; i < sizeof junk; i++) { x = x * 1103515245u + 12345u; junk[i] = (char)(x >> 16); }
    write_bytes(path, junk, sizeof junk);
}

static void flip_body_bit(const char *path)
{
    ptc_buf b = PTC_BUF_INIT;
    ck_assert_int_eq(ptc_read_file(path, &b), 0);
    b.data[b.len / 2] ^= 0x10;
    write_bytes(path, b.data, b.len);
    ptc_buf_free(&b);
}

static void wr32(char *p, uint32_t v)
{
    unsigned char *c = (unsigned char *)p;
    c[0] = (unsigned char)v; c[1] = (unsigned char)(v >> 8);
    c[2] = (unsigned char)(v >> 16); c[3] = (unsigned char)(v >> 24);
}

/* A file from another format version: version field patched, both CRCs right. */
static void other_version(const char *path)
{
    ptc_buf b = PTC_BUF_INIT;
    ck_assert_int_eq(ptc_read_file(path, &b), 0);
    wr32(b.data + 8, PTC_BC_FORMAT_VERSION + 1);
    wr32(b.data + 36, ptc_crc32(b.data, 36));
    wr32(b.data + b.len - 4, ptc_crc32(b.data, b.len - 4));
    write_bytes(path, b.data, b.len);
    ptc_buf_free(&b);
}

static void replace_by_directory(const char *path)
{
    unlink(path);
    ck_assert_int_eq(mkdir(path, 0700), 0);
}

START_TEST(stale_format_version_recompiled)
{
    check_recovers(other_version, "format version 3, expected 2");
}
END_TEST

START_TEST(truncated_file_recompiled)
{
    check_recovers(truncate_half, "miss for t.conf:");
}
END_TEST

START_TEST(empty_file_recompiled)
{
    check_recovers(truncate_empty, "truncated header (0 bytes)");
}
END_TEST

START_TEST(garbage_file_recompiled)
{
    check_recovers(garbage, "not a ptc bytecode file");
}
END_TEST

START_TEST(flipped_bit_recompiled)
{
    check_recovers(flip_body_bit, "checksum mismatch");
}
END_TEST

START_TEST(directory_in_place_of_file_still_compiles)
{
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog_free(get(&c, src));
    char *path = ptc_cache_path(&c, src);
    replace_by_directory(path);
    ptc_prog *p = get(&c, src);                 /* the store fails: still a program */
    assert_prog_is(p, src);
    ck_assert_uint_eq(c.misses, 2);
    ck_assert_uint_eq(c.store_failures, 1);
    ptc_prog_free(p);
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(other_bytes_of_same_size_recompiled)
{
    ck_assert_uint_eq(strlen(tmpl_a), strlen(tmpl_b));
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *a = src_of(tmpl_a), *b = src_of(tmpl_b);
    ptc_prog_free(get(&c, a));
    char *pa = ptc_cache_path(&c, a), *pb = ptc_cache_path(&c, b);
    ck_assert_str_ne(pa, pb);
    /* A's program where B's should be (a hash collision, or a copied file) */
    ptc_buf bytes = PTC_BUF_INIT;
    ck_assert_int_eq(ptc_read_file(pa, &bytes), 0);
    write_bytes(pb, bytes.data, bytes.len);

    char *log = NULL;
    size_t loglen = 0;
    c.log = open_memstream(&log, &loglen);
    ptc_prog *p = get(&c, b);
    fclose(c.log);
    ck_assert_uint_eq(c.hits, 0);
    ck_assert_uint_eq(c.misses, 2);
    ck_assert_ptr_nonnull(strstr(log, "compiled from other bytes"));
    assert_prog_is(p, b);
    assert_file_is(pb, b);
    assert_file_is(pa, a);                      /* A's file untouched */
    ptc_prog_free(p);
    free(log);
    free(pa);
    free(pb);
    ptc_buf_free(&bytes);
    ptc_src_free(a);
    ptc_src_free(b);
    ptc_cache_free(&c);
}
END_TEST

/* ---- no usable cache ------------------------------------------------------ */

START_TEST(unwritable_cache_dir_still_compiles)
{
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/file", work);
    write_bytes(file, "x", 1);
    snprintf(cdir, sizeof cdir, "%s/file/cache", work);   /* under a regular file */
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_prog *p = get(&c, src);
    assert_prog_is(p, src);
    ck_assert_uint_eq(c.stores, 0);
    ck_assert_uint_eq(c.store_failures, 1);
    ptc_prog_free(p);
    p = get(&c, src);                           /* every load compiles */
    ck_assert_uint_eq(c.misses, 2);
    ck_assert_uint_eq(c.hits, 0);
    ptc_prog_free(p);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(caching_off)
{
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    free(c.dir);
    c.dir = NULL;
    ptc_src *src = src_of(tmpl_a);
    ptc_prog *p = get(&c, src);
    assert_prog_is(p, src);
    ck_assert_uint_eq(c.misses, 1);
    ck_assert_uint_eq(c.stores + c.store_failures, 0);
    ck_assert(!ptc_exists(cdir));
    ptc_prog_free(p);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(template_with_errors_stores_nothing)
{
    char *diag = NULL;
    size_t dlen = 0;
    ptc_diag d;
    ptc_diag_init(&d, open_memstream(&diag, &dlen));
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of("[general\n");
    ck_assert_ptr_null(ptc_cache_get(&c, src, &d));
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_uint_eq(c.stores, 0);
    ck_assert(!ptc_exists(cdir));
    fclose(d.out);
    free(diag);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

START_TEST(default_dir_from_environment)
{
    char *saved[3];
    const char *names[3] = { "PTC_CACHE_DIR", "XDG_CACHE_HOME", "HOME" };
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v ? ptc_xstrdup(v) : NULL;
    }
    char *d;
    setenv("PTC_CACHE_DIR", "/x/ptc-cache", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    d = ptc_cache_default_dir(); ck_assert_str_eq(d, "/x/ptc-cache"); free(d);
    unsetenv("PTC_CACHE_DIR");
    d = ptc_cache_default_dir(); ck_assert_str_eq(d, "/xdg/ptc"); free(d);
    setenv("XDG_CACHE_HOME", "relative", 1);
    d = ptc_cache_default_dir(); ck_assert_str_eq(d, "/home/u/.cache/ptc"); free(d);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    d = ptc_cache_default_dir(); ck_assert_str_eq(d, "/var/cache/ptc"); free(d);
    for (int i = 0; i < 3; i++) {
        if (saved[i]) setenv(names[i], saved[i], 1); else unsetenv(names[i]);
        free(saved[i]);
    }
}
END_TEST

/* ---- concurrency ---------------------------------------------------------- */

#define NPROC 8

/* In a child: wait for the start signal, load through the cache, check. */
static int child(int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) < 0) return 10;
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_prog *p = ptc_cache_get(&c, src, &d);
    int rc = 0;
    if (!p) rc = 11;
    else if (c.store_failures) rc = 12;
    else {
        ptc_buf b = PTC_BUF_INIT;
        char *path = ptc_cache_path(&c, src);
        if (ptc_read_file(path, &b) != 0) rc = 13;
        else {
            ptc_prog *q = ptc_bc_decode(b.data, b.len, NULL, 0);
            if (!q) rc = 14;
            ptc_prog_free(q);
        }
        free(path);
        ptc_buf_free(&b);
    }
    ptc_prog_free(p);
    ptc_src_free(src);
    ptc_cache_free(&c);
    return rc;
}

START_TEST(concurrent_compiles_into_empty_cache)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            close(pfd[1]);
            _exit(child(pfd[0]));
        }
    }
    close(pfd[0]);
    close(pfd[1]);                              /* EOF: everyone starts at once */
    for (int i = 0; i < NPROC; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %d", i, st);
    }
    ck_assert_uint_eq(count_entries(cdir), 1);  /* one file, no temporaries */
    ptc_cache c;
    ptc_cache_init(&c, cdir);
    ptc_src *src = src_of(tmpl_a);
    char *path = ptc_cache_path(&c, src);
    assert_file_is(path, src);
    ptc_prog *p = get(&c, src);
    ck_assert_uint_eq(c.hits, 1);
    ptc_prog_free(p);
    free(path);
    ptc_src_free(src);
    ptc_cache_free(&c);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, miss_then_hit);
    tcase_add_test(tc, hit_from_another_process_cache);
    tcase_add_test(tc, log_says_why);
    tcase_add_test(tc, file_name_is_hash_and_size);
    tcase_add_test(tc, store_creates_dir_and_one_private_file);
    tcase_add_test(tc, file_holds_only_the_compiled_template);
    tcase_add_test(tc, stale_format_version_recompiled);
    tcase_add_test(tc, truncated_file_recompiled);
    tcase_add_test(tc, empty_file_recompiled);
    tcase_add_test(tc, garbage_file_recompiled);
    tcase_add_test(tc, flipped_bit_recompiled);
    tcase_add_test(tc, directory_in_place_of_file_still_compiles);
    tcase_add_test(tc, other_bytes_of_same_size_recompiled);
    tcase_add_test(tc, unwritable_cache_dir_still_compiles);
    tcase_add_test(tc, caching_off);
    tcase_add_test(tc, template_with_errors_stores_nothing);
    tcase_add_test(tc, default_dir_from_environment);
    tcase_add_test(tc, concurrent_compiles_into_empty_cache);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(cache_suite());
}
