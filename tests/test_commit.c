/* The commit protocol (src/run/commit.c), as a specification: a generation
 * of files becomes visible all at once or not at all, and whatever moment a
 * run dies at, the next one finishes it or undoes it.  faults.sh kills real
 * runs; these tests set each state up by hand and look at every file. */
#include "testutil.h"
#include "ptc/commit.h"
#include "ptc/fsutil.h"
#include "ptc/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

typedef struct tree {
    char root[64];
    char state[128], db[160], out[128];
} tree;

static void mktree(tree *T)
{
    strcpy(T->root, "/tmp/ptc-commit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(T->root));
    snprintf(T->state, sizeof T->state, "%s/kd", T->root);
    snprintf(T->db, sizeof T->db, "%s/db.sqlite3", T->state);
    snprintf(T->out, sizeof T->out, "%s/out", T->root);
    ck_assert_int_eq(ptc_mkdirs(T->state, 0755), 0);
    ck_assert_int_eq(ptc_mkdirs(T->out, 0755), 0);
}

static void rmtree(tree *T)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", T->root);
    ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
    ck_assert_int_eq(ptc_write_file_atomic(path, text, strlen(text), 0640), 0);
}

static char *get(const char *path)
{
    static char b[4][256];
    static int k;
    k = (k + 1) % 4;
    ptc_buf t = PTC_BUF_INIT;
    if (ptc_read_file(path, &t) != 0) snprintf(b[k], sizeof b[k], "(missing)");
    else snprintf(b[k], sizeof b[k], "%.*s", (int)t.len, t.data);
    ptc_buf_free(&t);
    return b[k];
}

static char *at(const tree *T, const char *name)
{
    static char b[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", T->out, name);
    return b[k];
}

/* A temporary file beside final holding text, added to the commit. */
static char *stage(ptc_commit *c, const char *final, const char *text)
{
    char *tmp = NULL;
    int fd = ptc_mktemp_beside(final, 0640, &tmp);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ptc_write_all(fd, text, strlen(text)), 0);
    close(fd);
    ptc_commit_add(c, tmp, final);
    return tmp;
}

static void begin(ptc_commit *c, const tree *T, ptc_diag *d)
{
    ptc_diag_init_null(d);
    ptc_commit_init(c, T->state, T->db);
    ptc_pathlist dirs = {0};
    ptc_pathlist_add(&dirs, T->out);
    ck_assert_int_eq(ptc_commit_intent(c, &dirs, d), 0);
    ptc_pathlist_free(&dirs);
}

static int exists(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Entries of dir whose name starts with a dot (temporary files, records). */
static int dot_files(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep '^\\.')\"", dir);
    return system(cmd) != 0;
}

START_TEST(a_commit_makes_every_file_visible)
{
    tree T;
    mktree(&T);
    put(at(&T, "a.cfg"), "old a");
    ptc_commit c;
    ptc_diag d;
    begin(&c, &T, &d);
    ck_assert(exists(T.state, ".ptc-intent"));                 /* before any temp file */
    free(stage(&c, at(&T, "a.cfg"), "new a"));
    free(stage(&c, at(&T, "b.cfg"), "new b"));
    ck_assert_str_eq(get(at(&T, "a.cfg")), "old a");           /* nothing visible yet */
    ck_assert_str_eq(get(at(&T, "b.cfg")), "(missing)");
    ck_assert_int_eq(ptc_commit_run(&c, &d), 0);
    ck_assert_int_eq(c.committed, 1);
    ck_assert_str_eq(get(at(&T, "a.cfg")), "new a");
    ck_assert_str_eq(get(at(&T, "b.cfg")), "new b");
    ck_assert(!dot_files(T.out));                               /* no temp file left */
    ck_assert(!dot_files(T.state));                             /* records removed */
    ck_assert_int_eq(ptc_commit_pending(T.state), 0);
    ptc_commit_free(&c);
    rmtree(&T);
}
END_TEST

START_TEST(an_abort_leaves_the_old_generation)
{
    tree T;
    mktree(&T);
    put(at(&T, "a.cfg"), "old a");
    ptc_commit c;
    ptc_diag d;
    begin(&c, &T, &d);
    free(stage(&c, at(&T, "a.cfg"), "new a"));
    free(stage(&c, at(&T, "b.cfg"), "new b"));
    ptc_commit_abort(&c);
    ck_assert_str_eq(get(at(&T, "a.cfg")), "old a");
    ck_assert_str_eq(get(at(&T, "b.cfg")), "(missing)");
    ck_assert(!dot_files(T.out));
    ck_assert(!dot_files(T.state));
    ptc_commit_free(&c);
    rmtree(&T);
}
END_TEST

/* A run killed after writing the manifest: the next one carries it out. */
START_TEST(recovery_rolls_a_committed_run_forward)
{
    tree T;
    mktree(&T);
    put(at(&T, "a.cfg"), "old a");
    ptc_commit c;
    ptc_diag d;
    begin(&c, &T, &d);
    char *ta = stage(&c, at(&T, "a.cfg"), "new a");
    char *tb = stage(&c, at(&T, "b.cfg"), "new b");
    fclose(c.pf);                                               /* the run dies here */
    c.pf = NULL;
    char manifest[256], text[1024];
    snprintf(manifest, sizeof manifest, "%s/.ptc-commit", T.state);
    snprintf(text, sizeof text, "R\t%s\t%s\nR\t%s\t%s\nS\t0\nEND\n", ta, at(&T, "a.cfg"), tb, at(&T, "b.cfg"));
    put(c.pending, text);                                       /* the manifest, written whole */
    ck_assert(rename(c.pending, manifest) == 0);                /* the commit point */
    ck_assert(rename(ta, at(&T, "a.cfg")) == 0);                /* ... after its first rename */
    ptc_commit_free(&c);
    ck_assert_int_eq(ptc_commit_pending(T.state), 1);
    ck_assert_int_eq(ptc_commit_finish(T.state, T.db, &d), 0);           /* as ptc serve or ptc recover do */
    ck_assert_str_eq(d.last, "finishing an interrupted run");
    ck_assert_uint_eq(d.errors, 0);
    ck_assert_str_eq(get(at(&T, "a.cfg")), "new a");
    ck_assert_str_eq(get(at(&T, "b.cfg")), "new b");
    ck_assert_int_eq(ptc_commit_pending(T.state), 0);
    ck_assert(!dot_files(T.out));
    ck_assert(!dot_files(T.state));
    free(ta);
    free(tb);
    rmtree(&T);
}
END_TEST

/* A run killed while writing the manifest (no END line): undone. */
START_TEST(recovery_rolls_a_torn_manifest_back)
{
    tree T;
    mktree(&T);
    put(at(&T, "a.cfg"), "old a");
    ptc_commit c;
    ptc_diag d;
    begin(&c, &T, &d);
    char *ta = stage(&c, at(&T, "a.cfg"), "new a");
    fclose(c.pf);
    c.pf = NULL;
    char manifest[256], text[512];
    snprintf(manifest, sizeof manifest, "%s/.ptc-commit", T.state);
    snprintf(text, sizeof text, "R\t%s\t%s\nS\t0\nEN", ta, at(&T, "a.cfg"));
    put(manifest, text);
    ptc_commit_free(&c);
    ck_assert_int_eq(ptc_commit_pending(T.state), 0);              /* torn: not committed */
    ptc_commit r;
    ptc_commit_init(&r, T.state, T.db);
    ck_assert_int_eq(ptc_commit_recover(&r, &d), 0);
    ck_assert_str_eq(get(at(&T, "a.cfg")), "old a");
    ck_assert_int_eq(access(ta, F_OK), -1);                     /* the temp file is gone */
    ck_assert(!dot_files(T.state));
    ptc_commit_free(&r);
    free(ta);
    rmtree(&T);
}
END_TEST

/* A run killed before its manifest: the intent record names the
 * directories whose temporary files are removed. */
START_TEST(recovery_removes_temp_files_of_the_intent)
{
    tree T;
    mktree(&T);
    ptc_commit c;
    ptc_diag d;
    begin(&c, &T, &d);
    char *ta = stage(&c, at(&T, "a.cfg"), "new a");
    fclose(c.pf);
    c.pf = NULL;
    ptc_commit_free(&c);
    ck_assert_int_eq(access(ta, F_OK), 0);
    ptc_commit r;
    ptc_commit_init(&r, T.state, T.db);
    ck_assert_int_eq(ptc_commit_recover(&r, &d), 0);
    ck_assert_int_eq(access(ta, F_OK), -1);
    ck_assert_str_eq(get(at(&T, "a.cfg")), "(missing)");
    ck_assert(!dot_files(T.out));
    ck_assert(!dot_files(T.state));
    ptc_commit_free(&r);
    free(ta);
    rmtree(&T);
}
END_TEST

START_TEST(one_run_at_a_time)
{
    tree T;
    mktree(&T);
    int a = ptc_commit_lock(T.state, 1);
    ck_assert_int_ge(a, 0);
    errno = 0;
    ck_assert_int_eq(ptc_commit_lock(T.state, 1), -1);
    ck_assert_int_eq(errno, EWOULDBLOCK);
    ck_assert(!exists(T.state, "db.sqlite3"));                  /* the lock creates nothing */
    close(a);
    int b = ptc_commit_lock(T.state, 1);
    ck_assert_int_ge(b, 0);
    close(b);
    rmtree(&T);
}
END_TEST

static Suite *commit_suite(void)
{
    Suite *s = suite_create("commit");
    TCase *tc = tcase_create("protocol");
    tcase_add_test(tc, a_commit_makes_every_file_visible);
    tcase_add_test(tc, an_abort_leaves_the_old_generation);
    suite_add_tcase(s, tc);
    tc = tcase_create("recovery");
    tcase_add_test(tc, recovery_rolls_a_committed_run_forward);
    tcase_add_test(tc, recovery_rolls_a_torn_manifest_back);
    tcase_add_test(tc, recovery_removes_temp_files_of_the_intent);
    tcase_add_test(tc, one_run_at_a_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(commit_suite());
}
