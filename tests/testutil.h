/* Helpers shared by the Check suites. */
#ifndef PTC_TESTUTIL_H
#define PTC_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a suite and returns the process exit status. */
static inline int ptc_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Exact byte comparison with a readable failure message. */
#define ck_assert_mem_str(got, gotlen, want) do {                              \
        const char *w_ = (want);                                              \
        size_t wl_ = strlen(w_);                                              \
        ck_assert_msg((gotlen) == wl_ && memcmp((got), w_, wl_) == 0,          \
                      "got [%.*s] want [%s]", (int)(gotlen), (got), w_);       \
    } while (0)

#include <glob.h>
#include <limits.h>
#include <unistd.h>

/* The repository: the working directory under `make check`, else found
 * from the binary's path (REPO/BUILD/tests/test_X). */
static inline const char *repo_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0]) return dir;
    if (access("tests/golden", F_OK) == 0) { strcpy(dir, "."); return dir; }
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    ck_assert_int_gt(n, 0);
    dir[n] = '\0';
    for (int up = 0; up < 3; up++) *strrchr(dir, '/') = '\0';
    return dir;
}

/* ../shared (conformance vectors), or $SHARED. */
static inline const char *shared_dir(void)
{
    static char dir[PATH_MAX];
    const char *e = getenv("SHARED");
    if (e && *e) snprintf(dir, sizeof dir, "%s", e);
    else snprintf(dir, sizeof dir, "%s/../shared", repo_dir());
    return dir;
}

/* Every stock and conformance template. */
static inline void glob_templates(glob_t *g)
{
    char pat[PATH_MAX + 64];
    snprintf(pat, sizeof pat, "%s/templates/*.conf", repo_dir());
    ck_assert_int_eq(glob(pat, 0, NULL, g), 0);
    snprintf(pat, sizeof pat, "%s/conformance/*/input/templates/*.conf", shared_dir());
    ck_assert_msg(glob(pat, GLOB_APPEND, NULL, g) == 0, "no conformance templates under %s", shared_dir());
}

#endif
